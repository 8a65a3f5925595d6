namespace Backups.Core.Buffers;

/// <summary>
/// Opening a repository, check and prune read whole index files and large trees, each tens of MiB as it is loaded,
/// decrypted and decompressed, and dead as soon as it is read. Read several at once, or left to the GC, which lets
/// several of them pile up before it collects, they set the peak memory of the whole run; one at a time, collected
/// as each one dies, they keep it near one of them. What a collection then finds alive is compact (index entries and
/// blob keys hold no references), so it costs little.
/// </summary>
internal static class LargeBuffers
{
    public const int Size = 1 << 20;

    /// <summary>Called when a buffer of <paramref name="bytes"/> bytes is no longer used.</summary>
    public static void Released(long bytes)
    {
        if (bytes >= Size) GC.Collect();
    }

    /// <summary>Runs <paramref name="work"/>, whose buffers come to about <paramref name="bytes"/>: small work at once,
    /// large work one at a time through <paramref name="gate"/> (a semaphore of one), collected right after.</summary>
    public static async Task OneAtATimeAsync(SemaphoreSlim gate, long bytes, Func<Task> work, CancellationToken ct)
    {
        if (bytes <= Size)
        {
            await work();
            return;
        }
        await gate.WaitAsync(ct);
        try
        {
            await work();
        }
        finally
        {
            Released(bytes);
            gate.Release();
        }
    }
}
