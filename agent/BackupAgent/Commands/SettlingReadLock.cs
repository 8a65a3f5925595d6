using Backups.Core.Locks;

namespace BackupAgent.Commands;

/// <summary>
/// A read lock takes restic's settling wait (200 ms between writing the lock and looking for others again). A
/// reader spends it on reads that change nothing (index, snapshot, trees): a prune racing with it deletes nothing
/// before its own settling look finds this lock, and this command writes nothing before the lock is held. When a
/// read fails and the lock fails too, the lock's failure is the one reported: the read failed because of it.
/// </summary>
internal static class SettlingReadLock
{
    public static async Task<(RepositoryLock? Lock, T Read)> ReadWhileLockingAsync<T>(Task<RepositoryLock?> locking, Func<Task<T>> read)
    {
        T result;
        try
        {
            result = await read();
        }
        catch
        {
            if (await locking is { } held) await held.DisposeAsync();
            throw;
        }
        return (await locking, result);
    }
}
