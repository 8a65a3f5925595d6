using System.Globalization;
using System.Text;

namespace Bench;

/// <summary>
/// The memory of processes that no GNU time can wrap: ones PostgreSQL starts (archive_command, restore_command),
/// the processes those spawn (pgBackRest's asynchronous archiver and its workers), and a resident archiver. Every
/// 100 ms until stopped it reads /proc for the processes whose command line matches and keeps the peak of their
/// summed VmRSS (several processes at once) and the largest VmHWM (one process's own peak, read while it lives).
/// A process that starts and ends between two samples is missed: short ones (one archive_command call each, for
/// both programs alike) count only when a sample catches them.
/// </summary>
public sealed class ProcessPeak
{
    private static readonly TimeSpan Every = TimeSpan.FromMilliseconds(100);
    private readonly Func<string[], bool> _matches;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;
    private long _sumKiB, _largestKiB;

    private ProcessPeak(Func<string[], bool> matches)
    {
        _matches = matches;
        _sampling = Task.Run(SampleAsync);
    }

    /// <param name="matches">Given a process's arguments (argv[0] first): whether it counts.</param>
    public static ProcessPeak Start(Func<string[], bool> matches) => new(matches);

    /// <summary>One last sample, then the peaks in MiB.</summary>
    public async Task<(double SumMiB, double LargestMiB)> StopAsync()
    {
        await _stop.CancelAsync();
        await _sampling;
        return (_sumKiB / 1024.0, _largestKiB / 1024.0);
    }

    private async Task SampleAsync()
    {
        while (true)
        {
            Sample();
            try
            {
                await Task.Delay(Every, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                Sample();
                return;
            }
        }
    }

    private void Sample()
    {
        long sum = 0;
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out _)) continue;
            try
            {
                var args = Encoding.UTF8.GetString(File.ReadAllBytes(Path.Combine(entry, "cmdline"))).Split('\0', StringSplitOptions.RemoveEmptyEntries);
                if (args.Length == 0 || !_matches(args)) continue;
                long rss = 0, hwm = 0;
                foreach (var line in File.ReadLines(Path.Combine(entry, "status")))
                {
                    if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = KiB(line);
                    else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) hwm = KiB(line);
                }
                sum += rss;
                _largestKiB = Math.Max(_largestKiB, hwm);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process ended between the listing and the read.
            }
        }
        _sumKiB = Math.Max(_sumKiB, sum);
    }

    /// <summary>"VmRSS:     1234 kB".</summary>
    private static long KiB(string line) =>
        long.Parse(line.AsSpan(6).Trim().ToString().Split(' ')[0], CultureInfo.InvariantCulture);
}
