using BackupAgent.Cli;

namespace BackupAgent.Run;

/// <summary>
/// Progress while sources run: for a person at a terminal one live line (<see cref="Line"/>: each running source's
/// files, bytes, rate and, for a paths source once counted, percentage and ETA), for a log (journald, SSM's
/// output) a structured line per source every half minute.
/// </summary>
public static class Progress
{
    private static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(30);

    public static string Line(NightlyRun run, TimeSpan elapsed)
    {
        var running = run.Running.OrderBy(r => r.Name, StringComparer.Ordinal).ToList();
        return $"[{ProgressLine.Clock(elapsed)}] " + (running.Count == 0 ? "starting"
            : string.Join(" | ", running.Select(r => $"{r.Name} {ProgressLine.Figures(r.Elapsed, r.Stats.Files, r.Stats.BytesRead, r.Stats.BytesTotal)}")));
    }

    public static async Task LogAsync(NightlyRun run, RunLog log, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                await Task.Delay(LogInterval, ct);
                foreach (var (name, stats, elapsed) in run.Running)
                    log.Info("progress", ("source", name), ("bytes_read", stats.BytesRead), ("bytes_added", stats.BytesAdded),
                        ("files", stats.Files), ("mib_per_second", stats.BytesRead / 1048576.0 / Math.Max(elapsed.TotalSeconds, 0.001)),
                        ("bytes_total", stats.BytesTotal), ("eta_seconds", Eta(stats, elapsed)?.TotalSeconds));
            }
        }
        catch (OperationCanceledException)
        {
            // the run is over
        }
    }

    /// <summary>Time left at the rate so far, for a source whose total is known.</summary>
    private static TimeSpan? Eta(Backups.Core.Archiving.SourceStats stats, TimeSpan elapsed)
    {
        if (stats.BytesTotal is not { } total || stats.BytesRead == 0) return null;
        var left = Math.Max(0, total - stats.BytesRead);
        return TimeSpan.FromSeconds(Math.Round(left / (stats.BytesRead / Math.Max(elapsed.TotalSeconds, 0.001))));
    }
}
