namespace Backups.Core;

public enum BlobType : byte { Data = 0, Tree = 1 }

/// <summary>Where a blob is stored: its pack, and its place and form inside it.</summary>
public readonly record struct BlobLocation(Id Pack, BlobType Type, uint Offset, uint Length, uint UncompressedLength)
{
    public bool IsCompressed => UncompressedLength != 0;

    /// <summary>Plaintext length: the uncompressed length, or the stored length less the crypto overhead.</summary>
    public int PlaintextLength => IsCompressed ? (int)UncompressedLength : (int)Length - Crypto.CryptoKey.Overhead;
}
