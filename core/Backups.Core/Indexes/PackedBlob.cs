using System.Runtime.InteropServices;
using Backups.Core.Crypto;
using Backups.Core.Packs;

namespace Backups.Core.Indexes;

/// <summary>A blob as restic keys it: the same id may be both a data and a tree blob.</summary>
internal readonly record struct BlobKey(Id Id, BlobType Type);

/// <summary>One index entry, compact (no strings, no objects): prune and check hold one per blob of the repository,
/// so it is packed to 52 bytes rather than padded to 56.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal readonly record struct PackedBlob(Id Id, BlobType Type, int Pack, uint Offset, uint Length, uint UncompressedLength)
{
    public BlobKey Key => new(Id, Type);

    public bool IsCompressed => UncompressedLength != 0;

    public PackEntry Entry => new(Id, Type, Length, UncompressedLength);

    public BlobLocation Location(Id pack) => new(pack, Type, Offset, Length, UncompressedLength);

    /// <summary>A pack's size less its blobs: the encrypted header and its length field.</summary>
    public static long HeaderOverhead => CryptoKey.Overhead + PackHeader.TrailerSize;
}
