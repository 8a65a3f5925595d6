using System.Buffers.Binary;
using Backups.Core.Repositories;

namespace Backups.Core.Packs;

/// <summary>One blob of a pack, as its header lists it.</summary>
public readonly record struct PackEntry(Id Id, BlobType Type, uint Length, uint UncompressedLength)
{
    public int HeaderSize => UncompressedLength == 0 ? PackHeader.PlainEntrySize : PackHeader.CompressedEntrySize;
}

/// <summary>
/// The plaintext pack header: entries of 37 bytes (type 0/1: uncompressed data/tree) or 41 bytes (type 2/3:
/// compressed, with the plaintext length). Offsets are not stored: blobs lie back to back in header order.
/// </summary>
public static class PackHeader
{
    public const int PlainEntrySize = 1 + 4 + Id.Size;
    public const int CompressedEntrySize = 1 + 4 + 4 + Id.Size;
    /// <summary>The encrypted header's own length field at the very end of a pack.</summary>
    public const int TrailerSize = 4;

    public static int Write(IEnumerable<PackEntry> entries, Span<byte> destination)
    {
        var pos = 0;
        foreach (var e in entries)
        {
            var compressed = e.UncompressedLength != 0;
            destination[pos] = (byte)((byte)e.Type | (compressed ? 2 : 0));
            BinaryPrimitives.WriteUInt32LittleEndian(destination[(pos + 1)..], e.Length);
            pos += 5;
            if (compressed)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(destination[pos..], e.UncompressedLength);
                pos += 4;
            }
            e.Id.WriteTo(destination[pos..]);
            pos += Id.Size;
        }
        return pos;
    }

    public static int Size(IEnumerable<PackEntry> entries) => entries.Sum(e => e.HeaderSize);

    /// <summary>Parses a decrypted header into entries with their offsets.</summary>
    public static List<(PackEntry Entry, uint Offset)> Parse(ReadOnlySpan<byte> header, string pack)
    {
        var result = new List<(PackEntry, uint)>();
        uint offset = 0;
        var pos = 0;
        while (pos < header.Length)
        {
            var type = header[pos];
            if (type > 3) throw new RepositoryException(ErrorKind.Damaged, $"{pack} is damaged: unknown blob type {type} in its header");
            var size = (type & 2) != 0 ? CompressedEntrySize : PlainEntrySize;
            if (pos + size > header.Length) throw new RepositoryException(ErrorKind.Damaged, $"{pack} is damaged: its header is truncated");
            var length = BinaryPrimitives.ReadUInt32LittleEndian(header[(pos + 1)..]);
            var uncompressed = (type & 2) != 0 ? BinaryPrimitives.ReadUInt32LittleEndian(header[(pos + 5)..]) : 0u;
            var id = new Id(header.Slice(pos + size - Id.Size, Id.Size));
            result.Add((new PackEntry(id, (BlobType)(type & 1), length, uncompressed), offset));
            offset += length;
            pos += size;
        }
        return result;
    }
}
