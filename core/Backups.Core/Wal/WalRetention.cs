using Backups.Core.Retention;
using Backups.Core.Snapshots;
using Backups.Core.Trees;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Wal;

/// <summary>
/// Retention of a cluster's WAL, which no keep rule counts: a WAL snapshot stays while a base backup that stays
/// may replay one of its files, i.e. while it holds a file that does not end before the oldest remaining base
/// backup's start. Timeline history files are always kept (a later timeline's recovery reads them). A source
/// with no base backup left keeps all its WAL: nothing says which part is old.
/// </summary>
public static class WalRetention
{
    public const string Rule = "keep the WAL from the oldest remaining base backup on";

    /// <summary>The plan for the WAL snapshots <paramref name="filter"/> selects, added to <paramref name="plan"/> (which
    /// decided the base backups): one group per source, host and path.</summary>
    public static async Task<ForgetPlan> PlanAsync(Repo repo, IReadOnlyList<Snapshot> snapshots, ForgetPlan plan, SnapshotFilter filter, CancellationToken ct)
    {
        var removed = plan.Removed.Select(s => s.Id).ToHashSet();
        var groups = plan.Groups.ToList();
        var wal = snapshots.Where(s => PgSnapshots.IsWal(s) && filter.Matches(s) && SnapshotSource.Of(s) != null)
            .GroupBy(s => SnapshotSource.Of(s)!).OrderBy(g => g.Key, StringComparer.Ordinal);
        foreach (var source in wal)
        {
            var oldest = snapshots.Where(s => SnapshotSource.Of(s) == source.Key && !removed.Contains(s.Id))
                .Select(s => (Snapshot: s, Facts: BaseBackupFacts.Of(s))).Where(b => b.Facts != null).MinBy(b => b.Facts!.Start);
            var trees = new Dictionary<Id, Tree>();
            foreach (var s in source) trees[s.Id] = await TreeJson.LoadAsync(repo, s.Tree, ct);
            var segmentSize = trees.Values.SelectMany(t => t.Nodes)
                .FirstOrDefault(n => WalFileName.TryParse(n.Name, out var name) && name.IsSegment)?.Size;
            var reason = oldest.Facts is { } facts ? $"WAL of base backup {oldest.Snapshot.Id.Short} (from {facts.Start}) or later" : "no base backup left";
            foreach (var group in SnapshotGrouping.Default.Group(source))
            {
                var needed = group.Snapshots.OrderByDescending(s => s.Time).ToLookup(s => oldest.Facts is not { } from || segmentSize is not { } size
                    || trees[s.Id].Nodes.Any(n => !EndsBefore(n.Name, from.Start, (long)size)));
                List<Snapshot> keep = [.. needed[true]], remove = [.. needed[false]];
                groups.Add(new GroupPlan(group.Key, keep, remove, [.. keep.Select(s => new KeepReason(s, [reason], default))],
                    new RetentionScope(source.Key, PgSnapshots.WalTag, RetentionPolicy.KeepAll) { Rule = Rule }));
            }
        }
        return new ForgetPlan(groups);
    }

    /// <summary>Whether an archived file holds only WAL before <paramref name="start"/> (a history file never does).</summary>
    private static bool EndsBefore(string file, Lsn start, long segmentSize) =>
        WalFileName.TryParse(file, out var name) && name.Name.Length >= 24
        && (name.Number(segmentSize) + 1) * (ulong)segmentSize <= start.Value;
}
