using Backups.Core.Inspecting;
using Backups.Core.Snapshots;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Reporting;

/// <summary>What one night added to a source's stored bytes (the new unique blobs of that night's snapshots).</summary>
public sealed record NightlyGrowth(DateOnly Night, long BytesAdded);

/// <summary>
/// One source's figures as restic counts them, so that anyone can check them with `restic stats --tag SOURCE`:
/// <see cref="RestoreSize"/> is the latest snapshot's restore-size, <see cref="Stored"/> the raw-data of all its
/// snapshots (unique blobs as stored: compressed and encrypted), <see cref="Restorable"/> the restore-size of all of
/// them; the deduplication ratio is what the snapshots would take without deduplication per byte stored.
/// </summary>
/// <param name="StoredOverTime">The raw-data total after each snapshot, oldest first (what was stored by when:
/// the cold tier's share of it is what was stored before its transition age).</param>
public sealed record SourceStatus(string Source, Snapshot Latest, TimeSpan Age, long RestoreSize, long Restorable, long Stored,
    IReadOnlyList<NightlyGrowth> Growth, IReadOnlyList<(DateTimeOffset Time, long Stored)> StoredOverTime)
{
    public double DedupRatio => Stored == 0 ? 0 : (double)Restorable / Stored;

    public long StoredBefore(DateTimeOffset time) => StoredOverTime.LastOrDefault(s => s.Time < time).Stored;
}

public static class SourceStatuses
{
    /// <summary>"3d 4h", "5h 12m": an age as people read it in a table.</summary>
    public static string AgeText(TimeSpan age) =>
        age.TotalDays >= 1 ? $"{(int)age.TotalDays}d {age.Hours}h" : $"{Math.Max(0, (int)age.TotalHours)}h {Math.Max(0, age.Minutes)}m";

    /// <summary>How far back the nightly growth goes.</summary>
    public static readonly TimeSpan GrowthWindow = TimeSpan.FromDays(30);

    /// <summary>
    /// Every source's status (<see cref="SnapshotSource"/>: a snapshot's first tag; untagged snapshots belong to
    /// none), in name order. Each source's snapshots are counted oldest first, so the raw-data total after a
    /// snapshot, less the total before it, is what that snapshot stored anew. The index must be loaded.
    /// </summary>
    public static async Task<List<SourceStatus>> ComputeAsync(Repo repo, IEnumerable<Snapshot> snapshots, DateTimeOffset now, CancellationToken ct)
    {
        var result = new List<SourceStatus>();
        var bySource = snapshots.Where(s => SnapshotSource.Of(s) != null)
            .GroupBy(s => SnapshotSource.Of(s)!, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal);
        foreach (var group in bySource)
        {
            var raw = new StatsCounter(repo, StatsMode.RawData);
            var restore = new StatsCounter(repo, StatsMode.RestoreSize);
            var growth = new SortedDictionary<DateOnly, long>();
            ulong stored = 0, restorable = 0, latestSize = 0;
            Snapshot? latest = null;
            var overTime = new List<(DateTimeOffset, long)>();
            foreach (var snapshot in group.OrderBy(s => s.Time))
            {
                await raw.AddAsync(snapshot, ct);
                await restore.AddAsync(snapshot, ct);
                var total = raw.Result().TotalSize;
                var restored = restore.Result().TotalSize;
                if (now - snapshot.Time <= GrowthWindow)
                {
                    var night = DateOnly.FromDateTime(snapshot.Time.UtcDateTime);
                    growth[night] = growth.GetValueOrDefault(night) + (long)(total - stored);
                }
                (stored, latestSize, restorable, latest) = (total, restored - restorable, restored, snapshot);
                overTime.Add((snapshot.Time, (long)total));
            }
            result.Add(new SourceStatus(group.Key, latest!, now - latest!.Time, (long)latestSize, (long)restorable, (long)stored,
                [.. growth.Select(g => new NightlyGrowth(g.Key, g.Value))], overTime));
        }
        return result;
    }
}
