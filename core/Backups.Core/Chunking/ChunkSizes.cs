namespace Backups.Core.Chunking;

/// <summary>
/// How long chunks are: at least <paramref name="Min"/> bytes, at most <paramref name="Max"/>, cut where the
/// fingerprint's low <paramref name="AverageBits"/> bits are zero (2^AverageBits bytes apart on average beyond Min).
/// </summary>
public readonly record struct ChunkSizes(int Min, int Max, int AverageBits)
{
    /// <summary>restic's: its blobs and ours deduplicate against each other.</summary>
    public static readonly ChunkSizes Restic = new(Chunker.DefaultMinSize, Chunker.DefaultMaxSize, 20);

    /// <summary>
    /// A quarter of restic's, for database dumps: a table that grew or changed in a few places stores its
    /// changed stretch again, and with restic's sizes that stretch averages 1.5 MiB however little changed.
    /// Smaller is not better: chunks of text compress worse alone, and the dump's tree lists every chunk again
    /// each night (a 10 GB dump: about 27,000 ids, 1.8 MB).
    /// </summary>
    public static readonly ChunkSizes Fine = new(128 * 1024, 2 * 1024 * 1024, 18);

    internal ulong SplitMask => (1UL << AverageBits) - 1;
}
