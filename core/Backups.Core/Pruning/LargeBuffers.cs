namespace Backups.Core.Pruning;

/// <summary>
/// Planning reads whole index files and large trees one after another, each tens of MiB as it is loaded,
/// decrypted and decompressed, and dead as soon as it is read. Left to itself the GC lets several of them pile
/// up before it collects; collecting as each one dies keeps prune's peak memory near one of them. What it finds
/// alive is compact (entries and blob keys hold no references), so a collection costs little.
/// </summary>
internal static class LargeBuffers
{
    public const int Size = 1 << 20;

    /// <summary>Called when a buffer of <paramref name="bytes"/> bytes is no longer used.</summary>
    public static void Released(long bytes)
    {
        if (bytes >= Size) GC.Collect();
    }
}
