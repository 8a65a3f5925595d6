using System.Globalization;
using System.Text.Json.Nodes;
using BackupAgent.Cli;
using Backups.Core.Reporting;
using Backups.Core.Repositories;

namespace BackupAgent.Commands;

/// <summary>
/// Per source: the latest snapshot and its age, what it restores to against what the source stores, the
/// deduplication ratio and what each of the last 30 nights added; then this month's storage bill by class. Sizes
/// are restic's (<see cref="SourceStatus"/>), so `restic stats --tag SOURCE` confirms them. Then what the workflow's
/// run history (<see cref="RunHistoryStore"/>) says of each source: its last failure and error, its success rate
/// and backup durations over the last 30 days.
/// </summary>
public sealed class StatusCommand : Command
{
    public override string Name => "status";
    public override string Usage =>
        "status [--cold-class GLACIER_IR|STANDARD_IA|none] [--cold-after-days N]: per source, latest snapshot, sizes, deduplication, growth, " +
        "storage cost, last failure, success rate and backup durations";
    public override IReadOnlyList<Flag> Flags { get; } =
    [
        Flag.Valued("cold-class", "CLASS", "the storage class data packs move to (as the stack's coldStorageClass), for the cost estimate"),
        Flag.Valued("cold-after-days", "N", "after how many days data packs move to the cold class (as the stack's coldAfterDays)"),
    ];

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        // The deployment's lifecycle settings (infra: coldStorageClass, coldAfterDays) with the same defaults.
        var coldText = args.Value("cold-class") ?? "GLACIER_IR";
        if (!StorageCost.TryParseColdClass(coldText, out var coldClass))
            throw new UsageException($"--cold-class '{coldText}' is not GLACIER_IR, STANDARD_IA or none");
        var afterText = args.Value("cold-after-days") ?? "30";
        if (!int.TryParse(afterText, NumberStyles.None, CultureInfo.InvariantCulture, out var coldAfterDays) || coldAfterDays > 3650)
            throw new UsageException($"--cold-after-days '{afterText}' is not a number of days from 0 to 3650");

        await using var repo = await global.OpenRepositoryAsync(ct);
        await using var held = await global.ReadLockAsync(repo, ct);
        var snapshots = await repo.LoadSnapshotsAsync(ct);
        await repo.LoadIndexAsync(ct);
        var now = DateTimeOffset.UtcNow;
        var sources = await SourceStatuses.ComputeAsync(repo, snapshots, now, ct);
        var repositoryBytes = await StorageCost.RepositoryBytesAsync(repo.Backend, ct);
        var cost = StorageCost.Estimate(repositoryBytes, sources, now, coldAfterDays, coldClass);
        var (history, historyProblem) = await HistoryAsync(repo, ct);
        var runs = history == null ? [] : SourceRunsOf.Compute(history, now);

        if (output.Json)
        {
            output.JsonLine(new JsonObject
            {
                ["sources"] = new JsonArray([.. sources.Select(s => (JsonNode)new JsonObject
                {
                    ["source"] = s.Source,
                    ["latest_snapshot"] = s.Latest.Id.ToString(),
                    ["latest_time"] = s.Latest.Time.ToString("O", CultureInfo.InvariantCulture),
                    ["age_seconds"] = (long)s.Age.TotalSeconds,
                    ["restore_size"] = s.RestoreSize,
                    ["restorable_size"] = s.Restorable,
                    ["stored_size"] = s.Stored,
                    ["dedup_ratio"] = Math.Round(s.DedupRatio, 3),
                    ["growth"] = new JsonArray([.. s.Growth.Select(g => (JsonNode)new JsonObject
                    {
                        ["night"] = g.Night.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), ["bytes_added"] = g.BytesAdded,
                    })]),
                })]),
                ["repository_size"] = repositoryBytes,
                ["storage_cost"] = new JsonArray([.. cost.Select(c => (JsonNode)new JsonObject
                {
                    ["storage_class"] = c.StorageClass, ["bytes"] = c.Bytes, ["monthly_usd"] = c.MonthlyCost,
                })]),
                ["history"] = history == null ? null : HistoryJson(history, runs, now),
                ["history_note"] = history == null ? historyProblem : null,
            });
            return ExitCodes.Ok;
        }
        output.Line($"{"source",-20} {"latest snapshot",-26} {"age",8} {"restore size",12} {"stored",10} {"dedup",6} {"growth/night (30 d)",20}");
        foreach (var s in sources)
        {
            var average = s.Growth.Count == 0 ? "-" : "+" + Size.Format((long)s.Growth.Average(g => g.BytesAdded));
            output.Line($"{s.Source,-20} {s.Latest.Id.Short + " " + s.Latest.Time.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),-26} " +
                        $"{SourceStatuses.AgeText(s.Age),8} {Size.Format(s.RestoreSize),12} {Size.Format(s.Stored),10} {s.DedupRatio.ToString("0.0", CultureInfo.InvariantCulture) + "x",6} {average,20}");
        }
        output.Line($"storage this month (estimate, us-east-1): " +
                    string.Join(", ", cost.Select(c => $"{c.StorageClass} {Size.Format(c.Bytes)} ${c.MonthlyCost.ToString("0.00", CultureInfo.InvariantCulture)}")));
        if (history == null)
        {
            output.Line($"run history: {historyProblem}");
            return ExitCodes.Ok;
        }
        output.Line($"run history (last {SourceRunsOf.Window.TotalDays:0} days):");
        output.Line($"{"source",-20} {"runs",5} {"success",8} {"backup time (latest / avg)",27}  last failure");
        foreach (var r in runs)
        {
            var durations = r.LatestSeconds is { } latest ? $"{SourceRunsOf.DurationText(latest)} / {SourceRunsOf.DurationText(r.AverageSeconds!.Value)}" : "-";
            var failure = r.LastFailure is { } f ? $"{Time(f.Started)} {f.FailedStep ?? "backup"}: {r.LastError ?? "(no error given)"}" : "none";
            output.Line($"{r.Source,-20} {r.Runs,5} {Percent(r.SuccessRate),8} {durations,27}  {failure}");
        }
        if (history.Runs.LastOrDefault() is { } last)
            output.Line($"last run: {Time(last.Started)} on {last.Host}, {(last.Succeeded ? "succeeded" : $"failed at {last.FailedStep ?? "a step"}: {last.Error}")}");
        return ExitCodes.Ok;
    }

    /// <summary>The run history, or null and why (none written yet, or unreadable: the rest of the status stands).</summary>
    private static async Task<(RunHistory? History, string? Problem)> HistoryAsync(Repository repo, CancellationToken ct)
    {
        try
        {
            return await RunHistoryStore.LoadAsync(repo, ct) is { } history
                ? (history, null)
                : (null, "none recorded yet (the workflow's Notify step records every run in the repository's status/ folder)");
        }
        catch (RepositoryException e) when (e.Kind == ErrorKind.Damaged)
        {
            return (null, $"unreadable: {e.Message}");
        }
    }

    private static JsonObject HistoryJson(RunHistory history, List<SourceRuns> runs, DateTimeOffset now)
    {
        var recent = history.Runs.Where(r => r.Started >= now - SourceRunsOf.Window).ToList();
        return new JsonObject
        {
            ["runs"] = recent.Count,
            ["runs_failed"] = recent.Count(r => !r.Succeeded),
            ["last_run"] = history.Runs.LastOrDefault() is { } last ? RunJson(last) : null,
            ["last_failed_run"] = history.Runs.LastOrDefault(r => !r.Succeeded) is { } failed ? RunJson(failed) : null,
            ["sources"] = new JsonArray([.. runs.Select(r => (JsonNode)new JsonObject
            {
                ["source"] = r.Source,
                ["runs"] = r.Runs,
                ["succeeded"] = r.Succeeded,
                ["success_rate"] = r.SuccessRate is { } rate ? Math.Round(rate, 4) : null,
                ["last_failure"] = r.LastFailure is { } f ? Iso(f.Started) : null,
                ["last_failure_step"] = r.LastFailure?.FailedStep,
                ["last_error"] = r.LastError,
                ["latest_seconds"] = r.LatestSeconds,
                ["average_seconds"] = r.AverageSeconds is { } average ? Math.Round(average, 1) : null,
                ["durations"] = new JsonArray([.. r.Durations.Select(d => (JsonNode)new JsonObject { ["started"] = Iso(d.Started), ["seconds"] = d.Seconds })]),
            })]),
        };
    }

    private static JsonObject RunJson(RunRecord run) => new()
    {
        ["started"] = Iso(run.Started), ["host"] = run.Host, ["execution"] = run.Execution, ["succeeded"] = run.Succeeded,
        ["duration_seconds"] = Math.Round(run.DurationSeconds, 1), ["failed_step"] = run.FailedStep, ["error"] = run.Error,
    };

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";

    private static string Iso(DateTimeOffset time) => time.ToString("O", CultureInfo.InvariantCulture);

    private static string Percent(double? rate) => rate is { } r ? (r * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%" : "-";
}
