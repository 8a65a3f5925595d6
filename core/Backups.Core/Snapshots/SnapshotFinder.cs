using Backups.Core.Backends;
using Backups.Core.Repositories;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Snapshots;

/// <summary>Resolves what people type for a snapshot: "latest", a full id, or a unique id prefix.</summary>
/// <remarks>With <c>onDamaged</c>, "latest" is the newest snapshot that can be read, the damaged ones reported
/// there (restic 0.14 fails instead: one garbage file would block every restore of "latest").</remarks>
public static class SnapshotFinder
{
    public static async Task<Snapshot> FindAsync(Repo repo, string what, string? host = null, IReadOnlyList<string>? tags = null,
        IReadOnlyList<string>? paths = null, Action<RepositoryException>? onDamaged = null, CancellationToken ct = default)
    {
        if (what == "latest")
        {
            var all = await repo.LoadSnapshotsAsync(onDamaged, ct);
            var matching = all.Where(s => (host == null || s.Hostname == host)
                                          && (tags == null || tags.Count == 0 || tags.All(t => s.Tags?.Contains(t) == true))
                                          && (paths == null || paths.Count == 0 || paths.All(s.Paths.Contains))).ToList();
            return matching.Count > 0 ? matching[^1] : throw new RepositoryException(ErrorKind.NotFound, "no snapshot matched 'latest'");
        }
        if (what.Length < 1 || !what.All(char.IsAsciiHexDigitLower))
            throw new RepositoryException(ErrorKind.NotFound, $"no snapshot with id '{what}' (ids are lowercase hex)");
        var found = new List<Id>();
        await foreach (var (name, _) in repo.Backend.ListAsync(FileKind.Snapshot, ct))
            if (name.StartsWith(what, StringComparison.Ordinal) && Id.TryParse(name, out var id)) found.Add(id);
        return found.Count switch
        {
            0 => throw new RepositoryException(ErrorKind.NotFound, $"no snapshot with id '{what}'"),
            1 => await repo.LoadSnapshotAsync(found[0], ct),
            _ => throw new RepositoryException(ErrorKind.NotFound, $"'{what}' matches {found.Count} snapshots; give more of the id"),
        };
    }
}
