using Backups.Core.Locks;

namespace BackupAgent.Commands;

/// <summary>
/// A read lock takes restic's settling wait (200 ms between writing the lock and looking for others again). A
/// reader spends it on its work instead, once its lock file is written (no conflicting lock was there): a prune
/// racing with it deletes nothing before its own settling look finds this lock, so nothing read can vanish. When
/// the settling look finds a conflict, the work is stopped and the command fails with the lock's reason, even if
/// the work got as far as writing (a restore's first files, a dump's first bytes): it never reports success
/// without the lock. When the work fails and the lock fails too, the lock's failure is the one reported: the work
/// failed because of it.
/// </summary>
internal static class SettlingReadLock
{
    public static async Task<(RepositoryLock? Lock, T Result)> WorkWhileSettlingAsync<T>(Task<RepositoryLock?> settling,
        Func<CancellationToken, Task<T>> work, CancellationToken ct)
    {
        using var conflict = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var working = work(conflict.Token);
        RepositoryLock? held;
        try
        {
            held = await settling;
        }
        catch
        {
            await conflict.CancelAsync();
            try { await working; } catch { /* stopped by the lock's failure, the one reported */ }
            throw;
        }
        try
        {
            return (held, await working);
        }
        catch
        {
            if (held != null) await held.DisposeAsync();
            throw;
        }
    }
}
