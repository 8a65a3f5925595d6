namespace Backups.Core.Locks;

/// <summary>
/// The locks this process holds on one repository. Writes ask here first: nothing more is stored once a lock
/// could not be kept, and index and snapshot files only while every lock file is still in the store (a forced
/// unlock followed by a prune may have deleted the packs they would name).
/// </summary>
public sealed class HeldLocks
{
    private readonly List<RepositoryLock> _held = [];

    internal void Add(RepositoryLock held)
    {
        lock (_held) _held.Add(held);
    }

    internal void Remove(RepositoryLock held)
    {
        lock (_held) _held.Remove(held);
    }

    private RepositoryLock[] Held()
    {
        lock (_held) return [.. _held];
    }

    /// <summary>Throws why a held lock was lost, if one was.</summary>
    public void ThrowIfLost()
    {
        foreach (var held in Held())
            if (held.Lost is { } lost) throw lost;
    }

    /// <summary>Also asks the store whether every held lock file still exists.</summary>
    public async Task EnsureHeldAsync(CancellationToken ct)
    {
        foreach (var held in Held()) await held.EnsureHeldAsync(ct);
    }
}
