using Backups.Core.Backends;
using Backups.Core.Compression;

namespace Backups.Core.Repositories;

/// <summary>
/// A stored file that is not a pack, verified and decrypted: its JSON, which v2 marks with a leading 2 and keeps
/// compressed (JSON written by v1 starts with '{' or '['). Index files are read from it piece by piece
/// (<see cref="Indexes.IndexEntries"/>), never decompressed whole.
/// </summary>
public readonly struct UnpackedFile(FileHandle file, ReadOnlyMemory<byte> plaintext)
{
    public FileHandle File => file;

    public bool IsCompressed => plaintext.Length > 0 && plaintext.Span[0] == 2;

    /// <summary>The JSON as it is stored (without the mark), compressed or not.</summary>
    public ReadOnlyMemory<byte> Stored => IsCompressed ? plaintext[1..] : plaintext;

    /// <summary>The whole JSON.</summary>
    public ReadOnlyMemory<byte> Json()
    {
        if (!IsCompressed) return plaintext;
        try
        {
            return Zstd.Decompress(Stored.Span);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw DoesNotDecompress(e);
        }
    }

    public RepositoryException DoesNotDecompress(Exception e) => Repository.DoesNotDecompress(file.ToString(), e);
}
