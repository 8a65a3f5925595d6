using System.Buffers.Binary;

namespace Backups.Core.Chunking;

/// <summary>
/// Follows a pg_dump custom-format archive (`pg_dump -Fc`, archive versions 1.12 to 1.16: PostgreSQL 11 to 17)
/// as it streams past and finds where its parts begin: the table of contents, then each table's data block.
/// </summary>
/// <remarks>
/// Written to a pipe, the archive is a header (with the dump's start time), the table of contents, then one
/// block per table: a type byte, the entry's dump id and length-prefixed pieces of COPY data (compressed or
/// not) ending with a zero length; large objects are a block of (oid, pieces, zero) ending with a zero oid.
/// Integers are a sign byte and then the archive's int size in little-endian bytes; strings are a length
/// (-1 for none) and the bytes. Anything unexpected (another format, an unknown version, a negative length)
/// ends the search: boundaries only steer where chunks are cut, so a stream the scanner gives up on is
/// stored exactly as well as any other.
/// </remarks>
internal sealed class PgDumpArchiveScanner
{
    private enum Step { Magic, Version, Sizes, Format, Header, TocCount, Entry, Dependency, EntryOffset, BlockType, BlockId, DataLength, BlobOid, BlobLength, Done }

    private enum Field : byte { Byte, Int, Str }

    private const byte DataBlock = 1;
    private const byte LargeObjectsBlock = 3;
    private const int MinVersion = 12;
    private const int MaxVersion = 16;

    /// <summary>How every pg_dump archive in the custom format begins.</summary>
    public static ReadOnlySpan<byte> Magic => "PGDMP"u8;

    private Step _step = Step.Magic;
    private Field[] _fields = [];  // the header's or a TOC entry's fields, by archive version
    private int _fieldIndex;
    private int _version;
    private int _intSize;
    private int _offSize;
    private byte _blockType;
    private long _entriesLeft;
    private long _skip;
    private readonly byte[] _field = new byte[16];
    private int _have;

    /// <summary>Whether the scanner has given up on the stream: nothing more to find.</summary>
    public bool Done => _step == Step.Done;

    /// <summary>
    /// Reads <paramref name="data"/>, the stream's next bytes, and returns how many of them precede the next
    /// boundary; <paramref name="boundary"/> says whether there is one right after them (otherwise all were read).
    /// </summary>
    public int Scan(ReadOnlySpan<byte> data, out bool boundary)
    {
        boundary = false;
        int at = 0;
        while (at < data.Length && _step != Step.Done)
        {
            if (_skip > 0)
            {
                int k = (int)Math.Min(_skip, data.Length - at);
                _skip -= k;
                at += k;
                continue;
            }
            int size = FieldSize();
            int take = Math.Min(size - _have, data.Length - at);
            data.Slice(at, take).CopyTo(_field.AsSpan(_have));
            _have += take;
            at += take;
            if (_have < size) break;
            _have = 0;
            boundary = Advance(_field.AsSpan(0, size));
            if (boundary) return at;
        }
        return data.Length;
    }

    private int FieldSize() => _step switch
    {
        Step.Magic => 5,
        Step.Version => 3,
        Step.Sizes => 2,
        Step.Format or Step.BlockType => 1,
        Step.EntryOffset => 1 + _offSize,
        Step.Header or Step.Entry when _fields[_fieldIndex] == Field.Byte => 1,
        _ => 1 + _intSize,
    };

    /// <summary>Takes a whole field and moves on; true when a part of the archive begins right after it.</summary>
    private bool Advance(ReadOnlySpan<byte> f)
    {
        switch (_step)
        {
            case Step.Magic:
                _step = f.SequenceEqual(Magic) ? Step.Version : Step.Done;
                return false;
            case Step.Version:
                _version = f[1];
                _step = f[0] == 1 && _version is >= MinVersion and <= MaxVersion ? Step.Sizes : Step.Done;
                return false;
            case Step.Sizes:
                (_intSize, _offSize) = (f[0], f[1]);
                _step = _intSize is >= 1 and <= 8 && _offSize is >= 1 and <= 8 ? Step.Format : Step.Done;
                return false;
            case Step.Format:
                if (f[0] != 1) { _step = Step.Done; return false; } // not the custom format
                // compression (a byte from 1.15 on, an int before), the start time (7 ints), database name,
                // server version and pg_dump version
                _fields = [_version >= 15 ? Field.Byte : Field.Int, .. Enumerable.Repeat(Field.Int, 7), Field.Str, Field.Str, Field.Str];
                return Begin(Step.Header);
            case Step.Header:
                return NextField(f, Step.TocCount);
            case Step.TocCount:
                _entriesLeft = Int(f);
                // dump id, data dumper, table oid, oid, tag, desc, section, defn, drop, copy, namespace,
                // tablespace, [table access method 1.14+], [relkind 1.16+], owner, "with oids"
                _fields = [Field.Int, Field.Int, .. Enumerable.Repeat(Field.Str, 4), Field.Int, .. Enumerable.Repeat(Field.Str, 5),
                    .. _version >= 14 ? [Field.Str] : Array.Empty<Field>(), .. _version >= 16 ? [Field.Int] : Array.Empty<Field>(),
                    Field.Str, Field.Str];
                if (_entriesLeft < 0) { _step = Step.Done; return false; }
                if (_entriesLeft == 0) { _step = Step.BlockType; return true; }
                return Begin(Step.Entry);
            case Step.Entry:
                return NextField(f, Step.Dependency);
            case Step.Dependency:
                var length = Int(f);
                if (length == -1) _step = Step.EntryOffset; // the list's end
                else if (length < 0) _step = Step.Done;
                else _skip = length;
                return false;
            case Step.EntryOffset:
                if (--_entriesLeft > 0) return Begin(Step.Entry);
                _step = Step.BlockType;
                return true;
            case Step.BlockType:
                _blockType = f[0];
                _step = _blockType is DataBlock or LargeObjectsBlock ? Step.BlockId : Step.Done;
                return false;
            case Step.BlockId:
                _step = _blockType == DataBlock ? Step.DataLength : Step.BlobOid;
                return false;
            case Step.DataLength:
            case Step.BlobLength:
                var piece = Int(f);
                if (piece < 0) { _step = Step.Done; return false; }
                if (piece > 0) { _skip = piece; return false; }
                if (_step == Step.BlobLength) { _step = Step.BlobOid; return false; }
                _step = Step.BlockType;
                return true;
            case Step.BlobOid:
                var oid = Int(f);
                if (oid < 0) { _step = Step.Done; return false; }
                if (oid > 0) { _step = Step.BlobLength; return false; }
                _step = Step.BlockType;
                return true;
            default:
                return false;
        }
    }

    private bool Begin(Step step)
    {
        _step = step;
        _fieldIndex = 0;
        return false;
    }

    /// <summary>One field of the header or of a TOC entry; a string is its length, then its bytes skipped.</summary>
    private bool NextField(ReadOnlySpan<byte> f, Step after)
    {
        if (_fields[_fieldIndex] == Field.Str)
        {
            var length = Int(f);
            if (length < -1) { _step = Step.Done; return false; }
            _skip = Math.Max(length, 0);
        }
        if (++_fieldIndex == _fields.Length) _step = after;
        return false;
    }

    /// <summary>An archive integer; long.MinValue for one too wide to be a length, which every caller refuses.</summary>
    private static long Int(ReadOnlySpan<byte> f)
    {
        Span<byte> magnitude = stackalloc byte[8];
        magnitude.Clear();
        f[1..].CopyTo(magnitude);
        var value = BinaryPrimitives.ReadInt64LittleEndian(magnitude);
        if (value < 0) return long.MinValue;
        return f[0] == 0 ? value : -value;
    }
}
