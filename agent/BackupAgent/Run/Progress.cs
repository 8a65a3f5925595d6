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
                    var line = string.Join(" | ", running.Select(r => $"{r.Name} {Size.Format(r.Stats.BytesRead)} {Rate(r.Stats.BytesRead, r.Elapsed)}"));
                    terminal.Write($"\r{line,-100}");
                    continue;
                }
                foreach (var (name, stats, elapsed) in running)
                    log.Info("progress", ("source", name), ("bytes_read", stats.BytesRead), ("bytes_added", stats.BytesAdded),
                        ("files", stats.Files), ("mib_per_second", stats.BytesRead / 1048576.0 / Math.Max(elapsed.TotalSeconds, 0.001)));
            }
        }
        catch (OperationCanceledException)
        {
            if (isTerminal) terminal.Write($"\r{"",-100}\r");
        }
    }

    private static string Rate(long bytes, TimeSpan elapsed) =>
        (bytes / 1048576.0 / Math.Max(elapsed.TotalSeconds, 0.001)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB/s";
}
