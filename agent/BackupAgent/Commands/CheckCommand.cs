using System.Globalization;
using System.Text.Json;
using BackupAgent.Cli;
using Backups.Core.Checking;

namespace BackupAgent.Commands;

public sealed class CheckCommand : Command
{
    public override string Name => "check";
    public override string Usage => "check [flags]: verify the repository's structure and, if asked, its data";
    public override IReadOnlyList<Flag> Flags { get; } =
    [
        Flag.Switch("read-data", "also read and verify every pack"),
        Flag.Valued("read-data-subset", "N%|n/t", "read a random N% of the packs, or the n-th of t parts"),
        Flag.Valued("read-data-slice", "n/t", "read the n-th of t parts of the packs"),
        Flag.Valued("read-data-rotate", "DAYS", "read the part of the packs due today, all of them within DAYS days"),
        Flag.Valued("read-data-budget", "DURATION", "stop reading packs after 90s, 10m, 1h... (what is left is reported)"),
    ];

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        var progress = new ReadProgress();
        var options = new CheckOptions
        {
            Progress = progress,
            ReadData = Selection(args),
            ReadDeadline = args.Value("read-data-budget") is { } budget ? DateTimeOffset.UtcNow + Duration(budget) : null,
        };
        await using var repo = await global.OpenRepositoryAsync(ct);
        CheckReport report;
        // As restic 0.14: others may back up meanwhile, but prune (exclusive) must not remove packs under us.
        var started = System.Diagnostics.Stopwatch.StartNew();
        await using (await global.ReadLockAsync(repo, ct))
        await using (options.ReadData == PackSelection.None ? null
                         : await output.ProgressAsync(() => progress.Packs == 0 ? $"[{ProgressLine.Clock(started.Elapsed)}] checking structure"
                             : ProgressLine.Status(started.Elapsed, null, progress.BytesRead, progress.Bytes) + $" ({progress.PacksRead} of {progress.Packs} packs)"))
            report = await Checker.CheckAsync(repo, options, ct);

        var errors = report.ErrorCount;
        if (output.Json)
        {
            JsonSerializer.Serialize(output.Stdout, report, CheckReportJson.Default.CheckReport);
            output.Stdout.WriteByte((byte)'\n');
            output.Stdout.Flush();
        }
        else
        {
            foreach (var problem in report.Problems) output.Line(problem.ToString());
            output.Info($"checked {report.Snapshots} snapshots, {report.Trees} trees, {report.IndexFiles} index files, {report.Packs} packs ({report.Blobs} blobs)");
            if (report.PacksSelected > 0)
                output.Info($"read {report.PacksRead} of {report.PacksSelected} packs ({report.ReadSelection}), {Size.Format(report.BytesRead)}"
                            + (report.PacksLeft > 0 ? $"; {report.PacksLeft} left unread at the deadline" : ""));
            if (errors == 0) output.Info($"no errors were found ({report.WarningCount} warnings)");
            else output.Line($"{errors} errors, {report.WarningCount} warnings");
        }
        if (errors == 0) return ExitCodes.Ok;
        output.Message($"{Backups.Core.ProgramInfo.Name}: the repository is damaged: {errors} errors (first: {report.Errors.First().Message})");
        return ExitCodes.Damaged;
    }

    private static PackSelection Selection(Arguments args)
    {
        string[] flags = ["read-data-subset", "read-data-slice", "read-data-rotate"];
        var given = flags.Where(f => args.Value(f) != null).ToList();
        if (given.Count + (args.Has("read-data") ? 1 : 0) > 1)
            throw new UsageException("give only one of --read-data, --read-data-subset, --read-data-slice and --read-data-rotate");
        if (args.Has("read-data")) return PackSelection.All;
        if (given.Count == 0) return PackSelection.None;
        var value = args.Value(given[0])!;
        return given[0] switch
        {
            "read-data-subset" when value.EndsWith('%') && double.TryParse(value[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var percent)
                                    && percent is > 0 and <= 100 => PackSelection.Percentage(percent),
            "read-data-subset" => Part(value, 256, "--read-data-subset (N% or n/t)", PackSelection.Bucket),
            "read-data-slice" => Part(value, int.MaxValue, "--read-data-slice (n/t)", PackSelection.Slice),
            _ => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var days) && days >= 1
                ? PackSelection.Rotation(DateOnly.FromDateTime(DateTime.UtcNow), days)
                : throw new UsageException($"--read-data-rotate needs a number of days, not '{value}'"),
        };
    }

    private static PackSelection Part(string value, int maxTotal, string flag, Func<int, int, PackSelection> make)
    {
        var parts = value.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var total)
            && total >= 1 && total <= maxTotal && n >= 1 && n <= total)
            return make(n, total);
        throw new UsageException($"{flag}: '{value}' is not valid (n/t needs 1 <= n <= t <= {maxTotal})");
    }

    private static TimeSpan Duration(string text)
    {
        if (text.Length > 1 && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) && amount > 0)
        {
            switch (text[^1])
            {
                case 's': return TimeSpan.FromSeconds(amount);
                case 'm': return TimeSpan.FromMinutes(amount);
                case 'h': return TimeSpan.FromHours(amount);
            }
        }
        throw new UsageException($"--read-data-budget needs a duration such as 90s, 10m or 1h, not '{text}'");
    }
}
