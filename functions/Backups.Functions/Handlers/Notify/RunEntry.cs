using Backups.Core.Reporting;
using Backups.Functions.Contracts;

namespace Backups.Functions.Handlers.Notify;

/// <summary>
/// The run history's record of the execution Notify reports on. Per source it takes the agent's results: those the
/// workflow passes (backupSources), else those in a failed backup's cause; when the backup step failed without
/// any (the box unreachable, the agent killed), every source named or known failed with the step's error. A run
/// that failed after its backup, with no results passed, records no source: its backups are not what failed.
/// </summary>
public static class RunEntry
{
    /// <summary>The step whose failure is the sources' own (the statemachine's BackupFailed state names it).</summary>
    public const string BackupStep = "StartBackup";

    private const int MaxTextLength = 300;

    /// <param name="known">Every source the repository or the history knows, for a backup that failed as a whole.</param>
    /// <param name="clean">Masks secrets (the history is encrypted, but it is still no place for them).</param>
    public static RunRecord Compose(NotifyInput input, string host, DateTimeOffset now, IEnumerable<string> known, Func<string, string> clean)
    {
        var failed = input.Outcome == NotifyOutcome.Failure;
        string? Text(string? text) => text == null ? null : Shorten(clean(text).ReplaceLineEndings(" "));
        var results = input.BackupSources ?? (failed ? AgentCause.Parse(input.Cause)?.Sources : null);
        List<SourceRun> sources = results != null
            ? [.. results.Select(s => new SourceRun(s.Name, s.Succeeded ?? s.Error == null, Text(s.Error), s.DurationSeconds, s.BytesAdded))]
            : failed && input.Step == BackupStep
                ? [.. (input.Sources ?? AgentCause.Parse(input.Cause)?.FailedSources ?? known).Distinct(StringComparer.Ordinal)
                    .Select(name => new SourceRun(name, false, Text(input.Error)))]
                : [];
        return new RunRecord(host, input.ExecutionName, input.ExecutionStartTime ?? now, now, !failed,
            failed ? input.Step : null, failed ? Text(input.Error) : null, failed ? Text(input.Cause) : null, sources);
    }

    private static string Shorten(string text) => text.Length <= MaxTextLength ? text : text[..MaxTextLength] + "...";
}
