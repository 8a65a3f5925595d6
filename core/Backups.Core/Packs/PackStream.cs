using Backups.Core.Backends;
using Backups.Core.Buffers;
using Backups.Core.Compression;
using Backups.Core.Crypto;
using Backups.Core.Repositories;

namespace Backups.Core.Packs;

/// <summary>Where a blob lies in a pack file: its stored (encrypted) bytes.</summary>
public readonly record struct PackSpan(long Offset, long Length)
{
    public long End => Offset + Length;
}

/// <summary>
/// The one way packs are read (restore, check and prune's repack all come here, as restic's StreamPack): the
/// wanted blobs of a pack, in offset order, are fetched in few ranged reads of whole blobs into one pooled window,
/// and each blob's stored bytes are handed to the caller. Neighbours are read together unless the unused bytes
/// between them exceed <see cref="MaxGap"/> (a request costs more than a MiB of transfer); a blob larger than the
/// window gets a window of its own. Memory stays at one window per pack being read, whatever the pack's size.
/// </summary>
public static class PackStream
{
    /// <summary>Unused bytes worth reading to save a request (restic reads across gaps of up to 1 MiB too).</summary>
    public const long MaxGap = 1 << 20;

    /// <summary>The largest stored blob read: the largest one that may decompress (trees can be big), plus its
    /// encryption overhead.</summary>
    public const long MaxBlobLength = Zstd.MaxDecompressedLength + CryptoKey.Overhead;

    /// <summary>One ranged read: <c>[Start, End)</c> of the pack, holding the blobs <c>[First, Last)</c>.</summary>
    public readonly record struct Window(long Start, long End, int First, int Last);

    /// <summary>
    /// Plans the reads. <paramref name="blobs"/> are sorted by offset; empty ones are never handed out. With
    /// <paramref name="wholeSize"/> every byte of the pack is covered by windows back to back (a check hashes the
    /// whole file), and blobs past that size or starting inside an earlier window are not handed out (the check
    /// reports them from the index).
    /// </summary>
    public static List<Window> Plan(IReadOnlyList<PackSpan> blobs, long windowSize, long? wholeSize = null) =>
        wholeSize is { } size ? PlanWhole(blobs, windowSize, size) : PlanBlobs(blobs, windowSize);

    /// <summary>Whether the next blob in offset order joins the read
    /// <c>[start, end)</c>: the bytes skipped to reach it are few, and the read stays within the window.</summary>
    public static bool Joins(long start, long end, PackSpan next, long windowSize) =>
        next.Offset - end <= MaxGap && Math.Max(end, next.End) - start <= windowSize;

    private static List<Window> PlanBlobs(IReadOnlyList<PackSpan> blobs, long windowSize)
    {
        var windows = new List<Window>();
        var next = 0;
        while (true)
        {
            while (next < blobs.Count && blobs[next].Length <= 0) next++;
            if (next == blobs.Count) return windows;
            var first = next;
            var start = blobs[next].Offset;
            var end = blobs[next++].End;
            for (; next < blobs.Count; next++)
            {
                var b = blobs[next];
                if (b.Length <= 0) continue;
                if (!Joins(start, end, b, windowSize)) break;
                end = Math.Max(end, b.End);
            }
            windows.Add(new Window(start, end, first, next));
        }
    }

    private static List<Window> PlanWhole(IReadOnlyList<PackSpan> blobs, long windowSize, long size)
    {
        var windows = new List<Window>();
        long position = 0;
        var next = 0;
        while (position < size)
        {
            while (next < blobs.Count && (blobs[next].Offset < position || blobs[next].Length <= 0 || blobs[next].End > size)) next++;
            var first = next;
            long end;
            if (next < blobs.Count && blobs[next].Offset == position && blobs[next].Length > windowSize)
                end = blobs[next++].End; // a blob bigger than a window gets a window of its own
            else
            {
                var covered = position;
                for (; next < blobs.Count && blobs[next].End - position <= windowSize; next++)
                    if (blobs[next].Length > 0 && blobs[next].End <= size) covered = Math.Max(covered, blobs[next].End);
                // The next window starts with the first blob that did not fit.
                end = Math.Max(covered, Math.Min(size, Math.Min(position + windowSize, next < blobs.Count ? blobs[next].Offset : long.MaxValue)));
                if (end == position) end = Math.Min(size, position + windowSize);
            }
            windows.Add(new Window(position, end, first, next));
            position = end;
        }
        return windows;
    }

    /// <summary>Reads the planned windows one after another and hands out each blob's stored bytes (and, for a
    /// hash of the whole file, each window) in order. The memory handed out is valid only during the call, and the
    /// caller may overwrite a blob's bytes (decrypt it in place) once any window hash has been taken. A pack
    /// that is missing or shorter than the index says is damage.</summary>
    public static async Task ReadAsync(IBackend backend, FileHandle pack, IReadOnlyList<PackSpan> blobs, long windowSize,
        Func<int, Memory<byte>, ValueTask> onBlob, CancellationToken ct, long? wholeSize = null,
        Action<ReadOnlyMemory<byte>>? onWindow = null)
    {
        var windows = Plan(blobs, windowSize, wholeSize);
        if (windows.Count == 0) return;
        var buffer = BufferPool.Large.Rent(Largest(pack, windows, windowSize));
        try
        {
            foreach (var w in windows) await ReadWindowAsync(backend, pack, blobs, w, buffer, onBlob, onWindow, ct);
        }
        finally
        {
            BufferPool.Large.Return(buffer);
        }
    }

    /// <summary>Reads one planned window on its own (so that the windows of a few packs can be read in parallel)
    /// and hands out its blobs' stored bytes in order.</summary>
    public static async Task ReadWindowAsync(IBackend backend, FileHandle pack, IReadOnlyList<PackSpan> blobs, Window window, long windowSize,
        Func<int, Memory<byte>, ValueTask> onBlob, CancellationToken ct)
    {
        var buffer = BufferPool.Large.Rent(Largest(pack, [window], windowSize));
        try
        {
            await ReadWindowAsync(backend, pack, blobs, window, buffer, onBlob, null, ct);
        }
        finally
        {
            BufferPool.Large.Return(buffer);
        }
    }

    /// <summary>The largest window's length; the index says how long a blob is, and a damaged or hostile one must
    /// not make us allocate gigabytes.</summary>
    private static int Largest(FileHandle pack, IReadOnlyList<Window> windows, long windowSize)
    {
        var largest = windows.Max(w => w.End - w.Start);
        if (largest > Math.Max(windowSize, MaxBlobLength))
            throw new RepositoryException(ErrorKind.Damaged, $"{pack} is damaged: the index places a blob of {largest} bytes in it");
        return (int)largest;
    }

    private static async Task ReadWindowAsync(IBackend backend, FileHandle pack, IReadOnlyList<PackSpan> blobs, Window w, byte[] buffer,
        Func<int, Memory<byte>, ValueTask> onBlob, Action<ReadOnlyMemory<byte>>? onWindow, CancellationToken ct)
    {
        var bytes = buffer.AsMemory(0, (int)(w.End - w.Start));
        try
        {
            await backend.LoadIntoAsync(pack, w.Start, bytes, ct);
        }
        catch (Exception e) when (e is FileNotFoundInBackendException or EndOfStreamException)
        {
            throw new RepositoryException(ErrorKind.Damaged, $"{pack} cannot be read: {e.Message}", e);
        }
        onWindow?.Invoke(bytes);
        for (var i = w.First; i < w.Last; i++)
        {
            var b = blobs[i];
            if (b.Length <= 0 || b.Offset < w.Start || b.End > w.End) continue;
            await onBlob(i, bytes.Slice((int)(b.Offset - w.Start), (int)b.Length));
        }
    }
}
