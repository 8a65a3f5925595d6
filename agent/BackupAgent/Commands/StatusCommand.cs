using System.Globalization;
using System.Text.Json.Nodes;
using BackupAgent.Cli;
using Backups.Core.Reporting;

namespace BackupAgent.Commands;

/// <summary>
/// Per source: the latest snapshot and its age, what it restores to against what the source stores, the
/// deduplication ratio and what each of the last 30 nights added; then this month's storage bill by class. Sizes
/// are restic's (<see cref="SourceStatus"/>), so `restic stats --tag SOURCE` confirms them.
/// </summary>
public sealed class StatusCommand : Command
{
    public override string Name => "status";
    public override string Usage =>
        "status [--cold-class GLACIER_IR|STANDARD_IA|none] [--cold-after-days N]: per source, latest snapshot, sizes, deduplication, growth and storage cost";
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
        return ExitCodes.Ok;
    }
}
