using Backups.Core.Backends;
using Backups.Core.Retention;
using Backups.Core.Snapshots;
using Backups.Core.Trees;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Wal;

/// <summary>
/// Keeps the number of WAL snapshot files bounded: the archiver stores a snapshot per batch (dozens a day on a
/// busy server), and the Retention step, which alone may delete, merges each source's WAL snapshots of one UTC
/// day into one. The merged tree holds the same file nodes (same content, same archive times); it is stored,
/// indexed and its snapshot written before any old snapshot file is removed, so a kill at any point leaves
/// every file reachable (at worst twice, which the next night merges again). The caller holds the exclusive lock.
/// </summary>
public static class WalCompactor
{
    /// <summary>Merges those <paramref name="filter"/> selects; returns all the snapshots as they are afterwards.</summary>
    public static async Task<List<Snapshot>> CompactAsync(Repo repo, IReadOnlyList<Snapshot> snapshots, SnapshotFilter filter, CancellationToken ct)
    {
        var days = snapshots.Where(s => PgSnapshots.IsWal(s) && filter.Matches(s) && SnapshotSource.Of(s) != null)
            .GroupBy(s => (Source: SnapshotSource.Of(s)!, s.Hostname, Path: string.Join('\0', s.Paths), Day: s.Time.UtcDateTime.Date))
            .Where(g => g.Count() > 1).ToList();
        if (days.Count == 0) return [.. snapshots];

        var merged = new List<(Snapshot Snapshot, List<Snapshot> Replaces)>();
        foreach (var day in days)
        {
            var parts = day.OrderBy(s => s.Time).ToList();
            var nodes = new Dictionary<string, Node>(StringComparer.Ordinal);
            foreach (var part in parts)
                foreach (var node in (await TreeJson.LoadAsync(repo, part.Tree, ct)).Nodes)
                    nodes.TryAdd(node.Name, node); // the first stored wins, as WalArchive reads them
            var tree = new Tree { Nodes = [.. nodes.Values] };
            tree.Sort();
            var (id, _, _) = await TreeJson.SaveAsync(repo, tree, ct);
            var newest = parts[^1];
            merged.Add((new Snapshot
            {
                Time = newest.Time, Tree = id, Paths = [.. newest.Paths], Hostname = newest.Hostname, Username = newest.Username,
                Uid = newest.Uid, Gid = newest.Gid, Tags = newest.Tags is { } tags ? [.. tags] : null, ProgramVersion = ProgramInfo.Version,
            }, parts));
        }
        await repo.FlushAsync(ct);
        foreach (var (snapshot, _) in merged) snapshot.Id = await repo.SaveSnapshotAsync(snapshot, ct);
        var replaced = merged.SelectMany(m => m.Replaces).Select(s => s.Id).ToHashSet();
        // A merge left half done by a kill can be merged into a file with the same bytes, and the same name, as one
        // it replaces: that one stays.
        var added = merged.Select(m => m.Snapshot.Id).ToHashSet();
        replaced.ExceptWith(added);
        await Parallel.ForEachAsync(replaced, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct },
            async (old, token) => await repo.Backend.RemoveAsync(new FileHandle(FileKind.Snapshot, old.ToString()), token));
        return [.. snapshots.Where(s => !replaced.Contains(s.Id) && !added.Contains(s.Id)), .. merged.Select(m => m.Snapshot)];
    }
}
