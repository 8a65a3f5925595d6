namespace BackupAgent.Run;

/// <summary>Reports a run to the Step Functions task that started it.</summary>
public static class TaskReporter
{
    /// <summary>Where SSM Run Command hands the agent its task token (never on the command line).</summary>
    public const string TokenVariable = "BACKUP_AGENT_TASK_TOKEN";
}
