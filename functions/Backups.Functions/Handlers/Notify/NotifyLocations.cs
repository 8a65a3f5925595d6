using System.Text;
using Backups.Functions.Contracts;

namespace Backups.Functions.Handlers.Notify;

/// <summary>
/// The lines of a message that point a person somewhere: the execution (console link) and the logs: the
/// execution's history, the agent's log group (BACKUP_LOG_GROUP, when the box ships its logs to CloudWatch) and
/// this function's own (AWS_LAMBDA_LOG_GROUP_NAME, set by Lambda).
/// </summary>
public sealed class NotifyLocations(ConsoleLinks links, string? agentLogGroup, string? functionLogGroup)
{
    public void AppendExecution(StringBuilder body, NotifyInput input)
    {
        body.AppendLine($"Execution: {input.ExecutionName ?? "(not given)"}");
        if (input.ExecutionArn is { } arn) body.AppendLine($"  {links.Execution(arn)}");
    }

    public void AppendLogs(StringBuilder body)
    {
        body.AppendLine("Logs:");
        body.AppendLine("  every step's input, output and error: the execution's page above");
        body.AppendLine(agentLogGroup is { } agent
            ? $"  backup-agent (on the box): CloudWatch Logs group {agent}\n    {links.LogGroup(agent)}"
            : "  backup-agent (on the box): the SSM Run Command output of the backup step, and the box's journal (journalctl -u backup-agent)");
        if (functionLogGroup is { } own) body.AppendLine($"  this notification: CloudWatch Logs group {own}\n    {links.LogGroup(own)}");
    }
}
