namespace Backups.Core.Restoring;

/// <summary>
/// The pack reads of a restore, whichever round they belong to: at most <see cref="Count"/> at once, and none started
/// after one failed. The restore is failing then, and the first failure is the one it reports; a round fetched beside
/// the failing one lets its files go unfinished (closed without their metadata) instead of reading on.
/// </summary>
internal sealed class PackReads(int count) : IDisposable
{
    private readonly SemaphoreSlim _slots = new(count);
    private volatile bool _failed;

    public int Count => count;

    public async Task RunAsync(Func<Task> read, CancellationToken ct)
    {
        await _slots.WaitAsync(ct);
        try
        {
            if (!_failed) await read();
        }
        catch
        {
            // Before the slot is given back: a read waiting for it must not start.
            _failed = true;
            throw;
        }
        finally
        {
            _slots.Release();
        }
    }

    public void Dispose() => _slots.Dispose();
}
