using System.Text;
using Backups.Functions.Contracts;
using Backups.Functions.Repositories;

namespace Backups.Functions.Handlers.Notify;

/// <summary>
/// The email about a failed step: what failed where, why, which sources, the execution and its console link,
/// each source's last successful backup, and where the logs are. Secrets are masked by the caller, over the
/// whole message.
/// </summary>
public static class FailureReport
{
    private const int MaxCauseLength = 8000;

    public static Message Compose(NotifyInput input, string host, SourceHistory? history, string? historyProblem,
        NotifyLocations where, DateTimeOffset now)
    {
        var step = input.Step ?? "a step";
        var affected = input.Sources ?? FailedSourcesIn(input.Cause);
        var body = new StringBuilder()
            .AppendLine($"The backup workflow failed at {step} for {host}.")
            .AppendLine()
            .AppendLine($"Error: {input.Error ?? "(no error name)"}")
            .AppendLine($"Sources affected: {(affected is { Count: > 0 } ? string.Join(", ", affected) : "not named (assume all of this host's sources)")}");
        foreach (var (source, error) in SourceErrorsIn(input.Cause)) body.AppendLine($"  {source}: {error}");
        body
            .AppendLine("Cause:")
            .AppendLine(Indent(Truncate(input.Cause ?? "(no cause given)")))
            .AppendLine();
        where.AppendExecution(body, input);
        body.AppendLine().AppendLine("Last successful backup per source:");
        if (history == null) body.AppendLine($"  (the repository could not be read: {historyProblem})");
        else
        {
            var names = history.Sources.Union(affected ?? []).ToList();
            if (names.Count == 0) body.AppendLine("  (the repository holds no snapshots)");
            foreach (var name in names)
                body.AppendLine(history.Latest(name) is { } s
                    ? $"  {name}: {s.Time.UtcDateTime:yyyy-MM-dd HH:mm} UTC ({(now - s.Time).TotalHours:0.#} h ago), snapshot {s.Id.Short}"
                    : $"  {name}: none");
        }
        body.AppendLine();
        where.AppendLogs(body);
        return new Message($"Backup failed: {step} on {host}", body.ToString());
    }

    /// <summary>Each failed source's own one-line error from the agent's result (what people read first).</summary>
    private static IEnumerable<(string Source, string Error)> SourceErrorsIn(string? cause) =>
        (AgentCause.Parse(cause)?.Sources ?? []).Where(s => s.Error != null).Select(s => (s.Name, s.Error!.ReplaceLineEndings(" ")));

    /// <summary>The agent's result (BackupAgent.SourcesFailed's cause) lists them in failed_sources.</summary>
    private static List<string>? FailedSourcesIn(string? cause) => AgentCause.Parse(cause)?.FailedSources?.ToList();

    private static string Truncate(string text) => text.Length <= MaxCauseLength ? text : text[..MaxCauseLength] + "... [truncated]";

    private static string Indent(string text) => "  " + text.ReplaceLineEndings("\n  ");
}
