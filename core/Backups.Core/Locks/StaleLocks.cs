using Backups.Core.Backends;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Locks;

/// <summary>restic's unlock: removes the locks nobody holds any more (or, on request, every lock).</summary>
public static class StaleLocks
{
    /// <returns>How many lock files were removed.</returns>
    public static async Task<int> RemoveAsync(Repo repo, bool all = false, CancellationToken ct = default)
    {
        var removed = 0;
        await foreach (var (file, id) in RepositoryLock.ListAsync(repo, ct))
        {
            if (!all && !RepositoryLock.IsStale(file)) continue;
            await repo.Backend.RemoveAsync(new FileHandle(FileKind.Lock, id.ToString()), ct);
            removed++;
        }
        return removed;
    }
}
