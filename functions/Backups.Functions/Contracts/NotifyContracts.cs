using System.Text.Json.Serialization;

namespace Backups.Functions.Contracts;

public enum NotifyOutcome { Failure, Success }

/// <summary>
/// What the workflow tells Notify. After a Catch (ResultPath $.error), a state's Parameters map
/// <c>"error.$": "$.error.Error"</c> and <c>"cause.$": "$.error.Cause"</c>, and the execution from the context
/// object: <c>"executionArn.$": "$$.Execution.Id"</c>, <c>"executionName.$": "$$.Execution.Name"</c>,
/// <c>"executionStartTime.$": "$$.Execution.StartTime"</c>.
/// </summary>
public sealed record NotifyInput
{
    /// <summary>"failure" or "success".</summary>
    public required NotifyOutcome Outcome { get; init; }

    /// <summary>The state that failed, e.g. "StartBackup".</summary>
    public string? Step { get; init; }

    /// <summary>The error name, e.g. "BackupAgent.SourcesFailed".</summary>
    public string? Error { get; init; }

    /// <summary>The error's cause as Step Functions gives it (secrets in it are masked before it goes anywhere).</summary>
    public string? Cause { get; init; }

    /// <summary>The backed-up machine; default BACKUP_HOST.</summary>
    public string? Host { get; init; }

    /// <summary>The sources affected; when absent, the cause's <c>failed_sources</c> (the agent's result) if any.</summary>
    public IReadOnlyList<string>? Sources { get; init; }

    /// <summary>For a success: the agent's per-source results (<c>"backupSources.$": "$.backup.sources"</c>); a source
    /// that saved its snapshot without some files lists them under <c>warnings</c>, and that always sends an email.</summary>
    public IReadOnlyList<BackupSourceResult>? BackupSources { get; init; }

    public string? ExecutionArn { get; init; }

    public string? ExecutionName { get; init; }

    /// <summary>Required for a success: its calendar month (UTC) is the one whose summary may be due, and the run
    /// history dates the run by it.</summary>
    public DateTimeOffset? ExecutionStartTime { get; init; }
}

/// <summary>What Notify reads of one source in the agent's run result (which is snake_case): its warnings for the
/// email, the rest for the run history.</summary>
public sealed record BackupSourceResult
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("succeeded")] public bool? Succeeded { get; init; }
    [JsonPropertyName("error")] public string? Error { get; init; }
    [JsonPropertyName("duration_seconds")] public double? DurationSeconds { get; init; }
    [JsonPropertyName("bytes_added")] public long? BytesAdded { get; init; }
    [JsonPropertyName("warnings")] public IReadOnlyList<string>? Warnings { get; init; }
}

/// <summary>The agent's run result as the cause of BackupAgent.SourcesFailed carries it.</summary>
public sealed record AgentRunCause
{
    [JsonPropertyName("failed_sources")] public IReadOnlyList<string>? FailedSources { get; init; }
    [JsonPropertyName("sources")] public IReadOnlyList<BackupSourceResult>? Sources { get; init; }
}

/// <param name="Sent">Whether an email went out (a success outside the summary cadence sends none).</param>
/// <param name="WebhookError">Why the webhook post failed; the email went out regardless.</param>
/// <param name="Reason">Why nothing was sent, when nothing was.</param>
/// <param name="HistoryError">Why the run could not be added to the run history (the email went out regardless).</param>
public sealed record NotifyResult(bool Sent, string? MessageId, string? Subject, bool WebhookSent, string? WebhookError = null, string? Reason = null,
    string? HistoryError = null);

/// <summary>A chat webhook's body: Discord reads <c>content</c>, Slack reads <c>text</c>.</summary>
public sealed record WebhookMessage(string Content, string Text);
