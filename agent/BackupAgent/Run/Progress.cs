using System.Globalization;
using BackupAgent.Cli;

namespace BackupAgent.Run;

/// <summary>
/// Progress while sources run: for a person at a terminal one live line (bytes and rate per source), for a
/// log (journald, SSM's output) a structured line per source every half minute.
/// </summary>
public static class Progress
{
    public static async Task ReportAsync(NightlyRun run, RunLog log, TextWriter terminal, bool isTerminal, CancellationToken ct)
    {
        var interval = TimeSpan.FromSeconds(isTerminal ? 1 : 30);
        try
        {
            while (true)
            {
                await Task.Delay(interval, ct);
                var running = run.Running.OrderBy(r => r.Name, StringComparer.Ordinal).ToList();
                if (isTerminal)
                {
                    var line = string.Join(" | ", running.Select(r =>
                        $"{r.Name} {Size.Format(r.Stats.BytesRead)} {Rate(r.Stats.BytesRead, r.Elapsed)}" +
                        (Eta(r.Stats, r.Elapsed) is { } eta ? $" ETA {eta:hh\\:mm\\:ss}" : "")));
                    terminal.Write($"\r{line,-100}");
                    continue;
                }
                foreach (var (name, stats, elapsed) in running)
                    log.Info("progress", ("source", name), ("bytes_read", stats.BytesRead), ("bytes_added", stats.BytesAdded),
                        ("files", stats.Files), ("mib_per_second", stats.BytesRead / 1048576.0 / Math.Max(elapsed.TotalSeconds, 0.001)),
                        ("bytes_total", stats.BytesTotal), ("eta_seconds", Eta(stats, elapsed)?.TotalSeconds));
            }
        }
        catch (OperationCanceledException)
        {
            if (isTerminal) terminal.Write($"\r{"",-100}\r");
        }
    }

    /// <summary>Time left at the rate so far, for a source whose total is known.</summary>
    private static TimeSpan? Eta(Backups.Core.Archiving.SourceStats stats, TimeSpan elapsed)
    {
        if (stats.BytesTotal is not { } total || stats.BytesRead == 0) return null;
        var left = Math.Max(0, total - stats.BytesRead);
        return TimeSpan.FromSeconds(Math.Round(left / (stats.BytesRead / Math.Max(elapsed.TotalSeconds, 0.001))));
    }

    private static string Rate(long bytes, TimeSpan elapsed) =>
        (bytes / 1048576.0 / Math.Max(elapsed.TotalSeconds, 0.001)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB/s";
}
