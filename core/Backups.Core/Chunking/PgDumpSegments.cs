namespace Backups.Core.Chunking;

/// <summary>
/// A stream saved as one file (a source's stdout, `backup --stdin`), cut where the parts of a pg_dump custom
/// archive begin when that is what it holds: the header and table of contents, whose start time changes every
/// night, then each table's data. Any other content passes through as one segment. The caller keeps owning
/// the stream it wraps.
/// </summary>
public sealed class PgDumpSegments : SegmentedStream
{
    // While the scanner may still find a boundary, reads are kept this small so that the bytes read past a
    // boundary fit the carry buffer; once it has given up, reads go straight through at the caller's size.
    private const int ScanRead = 64 * 1024;

    private readonly PgDumpArchiveScanner _scanner = new();
    private readonly byte[] _carry = new byte[ScanRead];
    private int _carryStart;
    private int _carryEnd;
    private readonly Stream _inner;
    private bool _archive;

    private PgDumpSegments(Stream inner) => _inner = inner;

    /// <summary>Reads the stream's first bytes to tell whether it is a custom-format archive.</summary>
    public static async Task<PgDumpSegments> OpenAsync(Stream inner, CancellationToken ct)
    {
        var segments = new PgDumpSegments(inner);
        segments._carryEnd = await inner.ReadAtLeastAsync(segments._carry.AsMemory(0, PgDumpArchiveScanner.Magic.Length), PgDumpArchiveScanner.Magic.Length, throwOnEndOfStream: false, ct)
            .ConfigureAwait(false);
        segments._archive = segments._carry.AsSpan(0, segments._carryEnd).SequenceEqual(PgDumpArchiveScanner.Magic);
        return segments;
    }

    /// <summary>Fine chunks for an archive (see <see cref="ChunkSizes.Fine"/>); restic's for anything else.</summary>
    public override ChunkSizes ChunkSizes => _archive ? ChunkSizes.Fine : ChunkSizes.Restic;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        AtSegmentEnd = false;
        if (_carryEnd > _carryStart) return Scanned(buffer.Span, FromCarry(buffer.Span), fromCarry: true);
        if (_scanner.Done) return await _inner.ReadAsync(buffer, ct).ConfigureAwait(false);
        int n = await _inner.ReadAsync(buffer[..Math.Min(buffer.Length, ScanRead)], ct).ConfigureAwait(false);
        return Scanned(buffer.Span, n, fromCarry: false);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        AtSegmentEnd = false;
        if (_carryEnd > _carryStart) return Scanned(buffer, FromCarry(buffer), fromCarry: true);
        if (_scanner.Done) return _inner.Read(buffer);
        return Scanned(buffer, _inner.Read(buffer[..Math.Min(buffer.Length, ScanRead)]), fromCarry: false);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    private int FromCarry(Span<byte> buffer)
    {
        int n = Math.Min(buffer.Length, _carryEnd - _carryStart);
        _carry.AsSpan(_carryStart, n).CopyTo(buffer);
        _carryStart += n;
        return n;
    }

    /// <summary>Scans the <paramref name="n"/> bytes just read and returns those before the next boundary; the rest wait for the next read.</summary>
    private int Scanned(Span<byte> buffer, int n, bool fromCarry)
    {
        if (n == 0) return 0;
        int before = _scanner.Scan(buffer[..n], out var boundary);
        AtSegmentEnd = boundary;
        int rest = n - before;
        if (rest == 0) return n;
        if (fromCarry)
        {
            _carryStart -= rest;
        }
        else
        {
            buffer.Slice(before, rest).CopyTo(_carry);
            (_carryStart, _carryEnd) = (0, rest);
        }
        return before;
    }
}
