using Backups.Core.Repositories;
using Backups.Core.Retention;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Snapshots;

/// <summary>
/// restic's choice of snapshots for stats, find, tag and snapshots: the ones named (ids, unique id prefixes,
/// "latest" as the filter's newest), or without names every snapshot the filter matches, oldest first.
/// </summary>
/// <remarks>restic 0.14 warns about a name that matches nothing and goes on; here every name is resolved
/// first and one that matches nothing is an error (exit 14), so that `tag --remove x typo` changes nothing.</remarks>
public static class SnapshotSelection
{
    public static async Task<List<Snapshot>> FindAsync(Repo repo, SnapshotFilter filter, IReadOnlyList<string> names,
        Action<RepositoryException>? onDamaged = null, CancellationToken ct = default)
    {
        if (names.Count == 0) return (await repo.LoadSnapshotsAsync(onDamaged, ct)).Where(filter.Matches).ToList();
        var chosen = new List<Snapshot>();
        foreach (var name in names)
        {
            var snapshot = name == "latest"
                ? (await repo.LoadSnapshotsAsync(onDamaged, ct)).LastOrDefault(filter.Matches)
                  ?? throw new RepositoryException(ErrorKind.NotFound, "no snapshot matched 'latest'")
                : await SnapshotFinder.FindAsync(repo, name, ct: ct);
            if (chosen.All(s => s.Id != snapshot.Id)) chosen.Add(snapshot);
        }
        return chosen;
    }
}
