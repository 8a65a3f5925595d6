using ZstdSharp;
using ZstdSharp.Unsafe;

namespace Backups.Core.Compression;

/// <summary>restic's compression modes for data blobs (trees and unpacked files are always compressed in v2).</summary>
public enum CompressionMode { Auto, Off, Max }

/// <summary>What the content is, where the fast level's match search should suit it (<see cref="CompressionMode.Max"/>
/// and <see cref="CompressionMode.Off"/> mean the same for every kind).</summary>
public enum ContentKind { General, Wal }

/// <summary>
/// zstd frames without checksums, as restic writes them. Compressors hold large internal state, so each
/// thread keeps its own instead of creating one per blob.
/// </summary>
public static class Zstd
{
    [ThreadStatic] private static Compressor? _fast;
    [ThreadStatic] private static Compressor? _wal;
    [ThreadStatic] private static Compressor? _max;
    [ThreadStatic] private static Decompressor? _decompressor;

    // Level 1 is a third faster than 3 here (ZstdSharp) for about 4% larger output on text and SQL dumps. WAL too:
    // on tests/bench's pitr case (2 GiB of pgbench WAL) level 3 stored 0.9% less but archived 42% slower (98 against
    // 169 MiB/s; pgBackRest's zstd level 3: 129-152 MiB/s).
    public const int FastLevel = 1;
    public const int MaxLevel = 19;

    // WAL is mostly page images and row tuples whose repeats are short: matches from 5 bytes (the fast level looks
    // for 6) stored pgbench WAL 6% smaller at the same speed, smaller than level 3 (measured over 336 MiB in 4 MiB
    // pieces: 119.6 against 127.3 MiB per GiB at level 1 and 121.2 at level 3). On a pgbench SQL dump it stored 6.5%
    // more, on shared libraries 4.6% less: so only for WAL.
    private const int WalMinMatch = 5;

    private static Compressor Get(CompressionMode mode, ContentKind kind)
    {
        if (mode == CompressionMode.Max) return _max ??= Create(MaxLevel);
        if (kind == ContentKind.Wal) return _wal ??= Create(FastLevel, WalMinMatch);
        return _fast ??= Create(FastLevel);
    }

    private static Compressor Create(int level, int minMatch = 0)
    {
        var c = new Compressor(level);
        c.SetParameter(ZSTD_cParameter.ZSTD_c_checksumFlag, 0);
        if (minMatch > 0) c.SetParameter(ZSTD_cParameter.ZSTD_c_minMatch, minMatch);
        return c;
    }

    public static int Bound(int length) => Compressor.GetCompressBound(length);

    /// <summary>Compresses into <paramref name="destination"/>; returns the length, or -1 when the result
    /// would not be smaller than the input (the caller then stores the plaintext).</summary>
    public static int TryCompress(ReadOnlySpan<byte> source, Span<byte> destination, CompressionMode mode,
        ContentKind kind = ContentKind.General)
    {
        var compressor = Get(mode, kind);
        // In auto mode a big blob whose first 64 KiB do not shrink by 3% (random data, media, archives) is
        // stored as it is: compressing all of it to find that out costs a sixth of a backup's CPU.
        if (mode == CompressionMode.Auto && source.Length >= 2 * ProbeLength
            && (!compressor.TryWrap(source[..ProbeLength], destination, out var probe) || probe > ProbeLength * 97 / 100))
            return -1;
        if (!compressor.TryWrap(source, destination, out var written)) return -1;
        return written < source.Length ? written : -1;
    }

    private const int ProbeLength = 64 * 1024;

    public static byte[] Compress(ReadOnlySpan<byte> source, CompressionMode mode = CompressionMode.Auto) =>
        Get(mode, ContentKind.General).Wrap(source).ToArray();

    /// <summary>
    /// The most one frame may decompress to; what a repository declares beyond it is damage, refused before anything
    /// is allocated. restic's data blobs are at most 8 MiB (its chunker's limit), its index files hold at most 50,000
    /// blobs (about 10 MiB of JSON), snapshots and locks are a few KiB, and a tree blob is one directory's listing
    /// (a few hundred bytes an entry, so a million-entry directory still fits). Anything near this bound would not
    /// fit a 512 MB Lambda function anyway.
    /// </summary>
    public const int MaxDecompressedLength = 512 << 20;

    /// <param name="expectedLength">The length the index or pack header declares, which the frame must produce
    /// exactly.</param>
    public static byte[] Decompress(ReadOnlySpan<byte> source, long expectedLength)
    {
        ThrowIfTooLarge(expectedLength);
        var result = GC.AllocateUninitializedArray<byte>((int)expectedLength);
        var n = ThreadDecompressor.Unwrap(source, result);
        if (n != expectedLength)
            throw new InvalidDataException($"decompressed {n} bytes, expected {expectedLength}");
        return result;
    }

    /// <summary>
    /// A file whose frame declares its length, or (streamed, as we write index files) only its blocks, which bound
    /// it. One buffer of that size and no copy: ZstdSharp's own Unwrap allocates one and ToArray copies it, two
    /// file-sized arrays at once where an index file of 150,000 blobs is 20 MiB of JSON.
    /// </summary>
    public static ReadOnlyMemory<byte> Decompress(ReadOnlySpan<byte> source)
    {
        var bound = Decompressor.GetDecompressedSize(source);
        ThrowIfTooLarge((long)Math.Min(bound, long.MaxValue));
        var buffer = GC.AllocateUninitializedArray<byte>((int)bound);
        return buffer.AsMemory(0, ThreadDecompressor.Unwrap(source, buffer));
    }

    // Refused before anything is allocated for it.
    private static void ThrowIfTooLarge(long length)
    {
        if (length > MaxDecompressedLength)
            throw new InvalidDataException($"it claims {length} bytes uncompressed, more than the {MaxDecompressedLength >> 20} MiB allowed");
    }

    private static Decompressor ThreadDecompressor => _decompressor ??= new Decompressor();

    public static int Decompress(ReadOnlySpan<byte> source, Span<byte> destination) => ThreadDecompressor.Unwrap(source, destination);
}
