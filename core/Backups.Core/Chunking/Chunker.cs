using Backups.Core.Buffers;
using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Backups.Core.Chunking;

/// <summary>
/// Content-defined chunker that cuts exactly where restic's Rabin chunker (restic/chunker v0.4)
/// cuts, so that equal data yields equal blobs and deduplicates against restic's.
/// </summary>
/// <remarks>
/// restic cuts a chunk after the first byte at which the chunk is at least MinSize long and the
/// Rabin fingerprint of the last 64 bytes has its low 20 bits zero, or when it reaches MaxSize; the
/// rest of the stream is the last chunk. Because restic skips the first MinSize - 64 bytes of a
/// chunk before it starts hashing, the fingerprint it tests at every eligible position covers only
/// bytes of the chunk itself; so whether a position is a cut depends only on the 64 bytes before it,
/// which lets <see cref="FindCut"/> hash independent stretches side by side.
/// The stream is read into one MaxSize buffer; each chunk is handed out in a pooled buffer of its own size.
/// A <see cref="SegmentedStream"/> is chunked segment by segment, each as if it were a stream of its own.
/// </remarks>
public sealed class Chunker : IDisposable
{
    public const int WindowSize = 64;
    public const int DefaultMinSize = 512 * 1024;
    public const int DefaultMaxSize = 8 * 1024 * 1024;

    // restic aims at 2^20 bytes (1 MiB) between cuts on average beyond MinSize.
    internal static ulong SplitMask => ChunkSizes.Restic.SplitMask;

    // Once a chunk holds MinSize bytes, read this much at a time before looking for a cut: large
    // enough for few stream calls and scans, small enough that little is read (and copied) past a cut.
    private const int ReadSize = 256 * 1024;

    private readonly Stream _source;
    private readonly SegmentedStream? _segments; // the source, when it knows its segments
    private readonly RabinTables _tables;
    private readonly int _minSize;
    private readonly int _maxSize;
    private readonly ulong _splitMask;

    private byte[]? _buffer; // the chunk being assembled, from its first byte
    private int _filled;
    private int _checked;    // positions up to here hold no cut (positions are chunk lengths)
    private bool _endOfStream;
    private bool _endOfSegment; // the bytes held end at a segment boundary
    private long _offset;    // stream offset of the chunk being assembled

    /// <summary>Chunks of the sizes the source asks for (<see cref="SegmentedStream.ChunkSizes"/>), restic's otherwise.</summary>
    public Chunker(Polynomial pol, Stream source)
        : this(pol, source, (source as SegmentedStream)?.ChunkSizes ?? ChunkSizes.Restic)
    {
    }

    public Chunker(Polynomial pol, Stream source, int minSize, int maxSize)
        : this(pol, source, ChunkSizes.Restic with { Min = minSize, Max = maxSize })
    {
    }

    public Chunker(Polynomial pol, Stream source, ChunkSizes sizes)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfLessThan(sizes.Min, WindowSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(sizes.Max, sizes.Min);
        ArgumentOutOfRangeException.ThrowIfLessThan(sizes.AverageBits, 10);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(sizes.AverageBits, 30);
        _tables = RabinTables.For(pol);
        _source = source;
        _segments = source as SegmentedStream;
        _minSize = sizes.Min;
        _maxSize = sizes.Max;
        _splitMask = sizes.SplitMask;
        _checked = _minSize - 1;
    }

    /// <summary>Bytes read from the source so far; runs ahead of the chunks returned by at most one read.</summary>
    public long BytesRead { get; private set; }

    /// <summary>
    /// The next chunk, or null at the end of the stream. The caller owns the chunk and must dispose it.
    /// After an exception (including cancellation) the chunker's position is lost: discard it.
    /// </summary>
    public async ValueTask<Chunk?> NextAsync(CancellationToken ct = default)
    {
        while (true)
        {
            _buffer ??= BufferPool.Large.Rent(_maxSize);

            int limit = Math.Min(_filled, _maxSize);
            if (limit > _checked)
            {
                int cut = FindCut(_buffer.AsSpan(0, limit), _checked + 1, _tables, _splitMask);
                if (cut < 0 && limit == _maxSize) cut = _maxSize;
                if (cut >= 0) return Emit(cut);
                _checked = limit;
            }

            if (_endOfStream || _endOfSegment)
            {
                _endOfSegment = false;
                if (_filled > 0) return Emit(_filled);
                if (_endOfStream) return null;
            }

            int want = Math.Min(Math.Max(_minSize - _filled, ReadSize), _maxSize - _filled);
            int n = await FillAsync(_buffer.AsMemory(_filled, want), ct).ConfigureAwait(false);
            _filled += n;
            BytesRead += n;
        }
    }

    /// <summary>Reads until <paramref name="buffer"/> is full, the stream ends or a segment does.</summary>
    private async ValueTask<int> FillAsync(Memory<byte> buffer, CancellationToken ct)
    {
        if (_segments == null)
        {
            int read = await _source.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, ct).ConfigureAwait(false);
            _endOfStream = read < buffer.Length;
            return read;
        }
        int total = 0;
        while (total < buffer.Length)
        {
            int n = await _segments.ReadAsync(buffer[total..], ct).ConfigureAwait(false);
            if (n == 0) { _endOfStream = true; break; }
            total += n;
            if (_segments.AtSegmentEnd) { _endOfSegment = true; break; }
        }
        return total;
    }

    /// <summary>
    /// Hands out the first <paramref name="length"/> bytes as a chunk in a buffer of its own size, and keeps
    /// the rest as the start of the next chunk. The copy costs little next to hashing; holding chunks in
    /// right-sized buffers instead of MaxSize ones is what keeps memory low while many are in flight.
    /// </summary>
    private Chunk Emit(int length)
    {
        var data = BufferPool.Large.Rent(length);
        _buffer.AsSpan(0, length).CopyTo(data);
        int rest = _filled - length;
        _buffer.AsSpan(length, rest).CopyTo(_buffer);
        _filled = rest;
        _checked = _minSize - 1;
        var chunk = new Chunk(data, length, _offset);
        _offset += length;
        return chunk;
    }

    public void Dispose()
    {
        if (_buffer != null) BufferPool.Large.Return(_buffer);
        _buffer = null;
        _endOfStream = true;
        _filled = 0;
    }

    // Lanes hashed side by side: each lane's digest is a serial chain of table lookups, so several
    // independent chains keep the CPU busy while each waits for its loads.
    private const int Lanes = 4;
    // Positions per lane and block: each lane spends 64 steps to fill its window, so blocks must be
    // much longer than that; a block with a cut is rescanned one position at a time, so not too long.
    private const int LaneLength = 4096;
    private const int MinLaneLength = 256;

    /// <summary>
    /// The smallest position p in [<paramref name="from"/>, data.Length] such that the fingerprint of
    /// data[p-64..p) has no bit of <paramref name="splitMask"/> set, or -1 if there is none.
    /// <paramref name="from"/> must be at least 64: every tested window lies inside data.
    /// </summary>
    internal static unsafe int FindCut(ReadOnlySpan<byte> data, int from, RabinTables tables, ulong splitMask)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(from, WindowSize);
        int last = data.Length;
        int shift = tables.Shift;
        fixed (byte* bytes = data)
        fixed (ulong* table = tables.Table)
        {
            int p = from;
            while (last - p + 1 >= Lanes * MinLaneLength)
            {
                int lane = Math.Min(LaneLength, (last - p + 1) / Lanes);
                if (AnyCut4(bytes + p, lane, table, shift, splitMask))
                    return FirstCut(bytes, p, p + Lanes * lane - 1, table, shift, splitMask);
                p += Lanes * lane;
            }
            return p <= last ? FirstCut(bytes, p, last, table, shift, splitMask) : -1;
        }
    }

    // The digest update of both loops below is restic's: shift in the new byte, reduce the 8 bits
    // pushed past x^k with mod[], and cancel the byte leaving the window with (what is here) out[].

    /// <summary>First cut position in [first, last], or -1; one position at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe int FirstCut(byte* data, int first, int last, ulong* table, int shift, ulong mask)
    {
        ulong* mod = table + 256;
        byte* window = data + first - WindowSize;
        ulong d = 0;
        for (int i = 0; i < WindowSize; i++) d = ((d << 8) | window[i]) ^ mod[d >> shift];
        if ((d & mask) == 0) return first;
        for (int p = first + 1; p <= last; p++)
        {
            d = ((d << 8) | data[p - 1]) ^ table[data[p - WindowSize - 1]] ^ mod[d >> shift];
            if ((d & mask) == 0) return p;
        }
        return -1;
    }

    /// <summary>Whether any of the 4·<paramref name="lane"/> positions from <paramref name="start"/> on is a cut.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe bool AnyCut4(byte* start, int lane, ulong* table, int shift, ulong mask)
    {
        byte* b0 = start, b1 = start + lane, b2 = start + 2 * lane, b3 = start + 3 * lane;
        ulong d0 = 0, d1 = 0, d2 = 0, d3 = 0;
        for (int i = -WindowSize; i < 0; i++)
        {
            d0 = ((d0 << 8) | b0[i]) ^ table[256 + (d0 >> shift)];
            d1 = ((d1 << 8) | b1[i]) ^ table[256 + (d1 >> shift)];
            d2 = ((d2 << 8) | b2[i]) ^ table[256 + (d2 >> shift)];
            d3 = ((d3 << 8) | b3[i]) ^ table[256 + (d3 >> shift)];
        }
        if ((d0 & mask) == 0 || (d1 & mask) == 0 || (d2 & mask) == 0 || (d3 & mask) == 0) return true;
        // Counting up to 0 from below lets the loop test reuse the increment's flags; indexing both
        // tables off one pointer leaves a register free, which this loop needs.
        b0 += lane - 1; b1 += lane - 1; b2 += lane - 1; b3 += lane - 1;
        for (nint i = 1 - lane; i < 0; i++)
        {
            d0 = ((d0 << 8) | b0[i]) ^ table[b0[i - WindowSize]] ^ table[256 + (d0 >> shift)];
            d1 = ((d1 << 8) | b1[i]) ^ table[b1[i - WindowSize]] ^ table[256 + (d1 >> shift)];
            d2 = ((d2 << 8) | b2[i]) ^ table[b2[i - WindowSize]] ^ table[256 + (d2 >> shift)];
            d3 = ((d3 << 8) | b3[i]) ^ table[b3[i - WindowSize]] ^ table[256 + (d3 >> shift)];
            if ((d0 & mask) == 0 || (d1 & mask) == 0 || (d2 & mask) == 0 || (d3 & mask) == 0) return true;
        }
        return false;
    }
}

/// <summary>A chunk cut by <see cref="Chunker"/>, in a pooled buffer that <see cref="Dispose"/> gives back.</summary>
public sealed class Chunk : IDisposable
{
    private byte[]? _buffer;

    internal Chunk(byte[] buffer, int length, long offset)
    {
        _buffer = buffer;
        Length = length;
        Offset = offset;
    }

    public int Length { get; }

    /// <summary>Position of the chunk's first byte in the stream.</summary>
    public long Offset { get; }

    public ReadOnlyMemory<byte> Data => new(_buffer ?? throw new ObjectDisposedException(nameof(Chunk)), 0, Length);

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer != null) BufferPool.Large.Return(buffer);
    }
}

/// <summary>Lookup tables of the Rabin fingerprint for one polynomial, shared by all chunkers using it.</summary>
internal sealed class RabinTables
{
    private static readonly ConcurrentDictionary<ulong, RabinTables> Cache = new();

    /// <summary>
    /// [256, 512): mod[b] = (b·x^k mod P) | (b·x^k), k = deg P, indexed by the 8 bits that shifting
    /// the digest by a byte pushes past x^k: XORing it both clears them and adds their remainder.
    /// [0, 256): what removing byte b from the front of the window contributes to the next digest.
    /// restic XORs out[b] (the fingerprint of b and 63 zero bytes) into the digest before shifting and
    /// reducing it; since the shift and mod are linear, the entry holds out[b] already shifted and
    /// reduced, which takes that lookup out of the digest's serial dependency chain.
    /// </summary>
    public ulong[] Table { get; }

    /// <summary>deg P - 8: shifting the digest right by it leaves the 8 bits that are about to overflow.</summary>
    public int Shift { get; }

    private RabinTables(Polynomial pol)
    {
        int k = pol.Deg;
        // restic refuses degrees above 53; below 8 one lookup cannot reduce a whole byte.
        if (k < 8 || k > Polynomial.RandomDegree)
            throw new ArgumentOutOfRangeException(nameof(pol), $"chunker polynomial {pol} must have a degree from 8 to 53");
        Shift = k - 8;
        Table = new ulong[512];
        for (int b = 0; b < 256; b++)
        {
            ulong high = (ulong)b << k;
            Table[256 + b] = new Polynomial(high).Mod(pol).Value | high;
        }
        for (int b = 0; b < 256; b++)
        {
            ulong outB = (ulong)b;
            for (int i = 1; i < Chunker.WindowSize; i++) outB = new Polynomial(outB << 8).Mod(pol).Value;
            Table[b] = (outB << 8) ^ Table[256 + (int)(outB >> Shift)];
        }
    }

    public static RabinTables For(Polynomial pol) => Cache.GetOrAdd(pol.Value, static v => new RabinTables(new Polynomial(v)));
}
