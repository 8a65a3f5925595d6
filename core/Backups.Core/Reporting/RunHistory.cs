using System.Globalization;
using System.Text.Json.Serialization;

namespace Backups.Core.Reporting;

/// <summary>What one run did for one source, as far as the workflow knows it.</summary>
/// <param name="DurationSeconds">How long its backup took (the agent's figure), when known.</param>
/// <param name="BytesAdded">What its backup added to the repository, when known.</param>
public sealed record SourceRun(string Source, bool Succeeded, string? Error = null, double? DurationSeconds = null, long? BytesAdded = null);

/// <summary>One execution of the workflow, recorded by its Notify step at the end, whether it succeeded or not.</summary>
/// <param name="FailedStep">The step that failed (e.g. "StartBackup", "Verify"); null for a success.</param>
/// <param name="Error">The error's name; <paramref name="Cause"/> its first lines, secrets masked.</param>
public sealed record RunRecord(string Host, string? Execution, DateTimeOffset Started, DateTimeOffset Finished, bool Succeeded,
    string? FailedStep, string? Error, string? Cause, IReadOnlyList<SourceRun> Sources)
{
    public double DurationSeconds => Math.Max(0, (Finished - Started).TotalSeconds);
}

/// <summary>A month whose summary went out to a host's recipients.</summary>
/// <param name="Month">"yyyy-MM" (UTC).</param>
public sealed record SummarySent(string Host, string Month, DateTimeOffset At);

/// <summary>
/// The workflow's run history (<see cref="RunHistoryStore"/> keeps it beside the repository): the last
/// <see cref="MaxRuns"/> runs, oldest first, and the months whose summary was sent, so that whether a month's summary
/// is due does not depend on which of its runs succeeded.
/// </summary>
public sealed class RunHistory
{
    /// <summary>Over a year of nightly runs: enough for any trend the status shows, small enough to rewrite each night.</summary>
    public const int MaxRuns = 400;

    /// <summary>Two years of months per host.</summary>
    public const int MaxSummaries = 24 * 4;

    public const int Version = 1;

    [JsonPropertyName("version")] public int FormatVersion { get; init; } = Version;

    public List<RunRecord> Runs { get; init; } = [];

    public List<SummarySent> Summaries { get; init; } = [];

    public static string MonthOf(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    /// <summary>Adds a run, in time order; a run already recorded (Notify retried) is replaced.</summary>
    public void Add(RunRecord run)
    {
        if (run.Execution != null) Runs.RemoveAll(r => r.Execution == run.Execution && r.Host == run.Host);
        var at = Runs.FindLastIndex(r => r.Started <= run.Started) + 1;
        Runs.Insert(at, run);
        if (Runs.Count > MaxRuns) Runs.RemoveRange(0, Runs.Count - MaxRuns);
    }

    public SummarySent? SummaryOf(string host, DateTimeOffset time) =>
        Summaries.FirstOrDefault(s => s.Host == host && s.Month == MonthOf(time));

    public void RecordSummary(string host, DateTimeOffset monthOf, DateTimeOffset at)
    {
        if (SummaryOf(host, monthOf) != null) return;
        Summaries.Add(new SummarySent(host, MonthOf(monthOf), at));
        if (Summaries.Count > MaxSummaries) Summaries.RemoveRange(0, Summaries.Count - MaxSummaries);
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RunHistory))]
internal partial class RunHistoryJson : JsonSerializerContext;
