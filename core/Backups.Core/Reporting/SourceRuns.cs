namespace Backups.Core.Reporting;

/// <summary>A source's record in the run history: its last failure ever, and over the last
/// <see cref="SourceRunsOf.Window"/> how many runs backed it up and how long each successful backup took.</summary>
/// <param name="Durations">Successful backups in the window, oldest first.</param>
public sealed record SourceRuns(string Source, int Runs, int Succeeded, RunRecord? LastFailure, string? LastError,
    IReadOnlyList<(DateTimeOffset Started, double Seconds)> Durations)
{
    /// <summary>Null when the window holds no run of the source.</summary>
    public double? SuccessRate => Runs == 0 ? null : (double)Succeeded / Runs;

    public double? LatestSeconds => Durations.Count == 0 ? null : Durations[^1].Seconds;

    public double? AverageSeconds => Durations.Count == 0 ? null : Durations.Average(d => d.Seconds);
}

public static class SourceRunsOf
{
    public static readonly TimeSpan Window = TimeSpan.FromDays(30);

    /// <summary>Every source the history names, in name order.</summary>
    public static List<SourceRuns> Compute(RunHistory history, DateTimeOffset now)
    {
        var since = now - Window;
        return
        [
            .. history.Runs.SelectMany(r => r.Sources.Select(s => (Run: r, Source: s)))
                .GroupBy(x => x.Source.Source, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g =>
                {
                    var recent = g.Where(x => x.Run.Started >= since).ToList();
                    var failure = g.LastOrDefault(x => !x.Source.Succeeded);
                    return new SourceRuns(g.Key, recent.Count, recent.Count(x => x.Source.Succeeded), failure.Run,
                        failure.Source?.Error ?? failure.Run?.Error,
                        [.. recent.Where(x => x.Source is { Succeeded: true, DurationSeconds: not null }).Select(x => (x.Run.Started, x.Source.DurationSeconds!.Value))]);
                }),
        ];
    }

    /// <summary>"1h 02m", "3m 07s", "12s": a duration as people read it in a table.</summary>
    public static string DurationText(double seconds)
    {
        var t = TimeSpan.FromSeconds(Math.Round(seconds));
        return t.TotalHours >= 1 ? $"{(int)t.TotalHours}h {t.Minutes:00}m" : t.TotalMinutes >= 1 ? $"{t.Minutes}m {t.Seconds:00}s" : $"{t.Seconds}s";
    }
}
