namespace Backups.Functions.Handlers.Notify;

/// <summary>Where a person finds an execution and its logs in the AWS console.</summary>
public sealed class ConsoleLinks(string region)
{
    private string Console => $"https://{region}.console.aws.amazon.com";

    /// <summary>The execution's page: every step's input, output and error.</summary>
    public string Execution(string executionArn) =>
        $"{Console}/states/home?region={region}#/v2/executions/details/{Uri.EscapeDataString(executionArn)}";

    /// <summary>A CloudWatch Logs group (the console wants '/' as $252F inside its fragment).</summary>
    public string LogGroup(string name) =>
        $"{Console}/cloudwatch/home?region={region}#logsV2:log-groups/log-group/{Uri.EscapeDataString(name).Replace("%", "$25", StringComparison.Ordinal)}";
}
