using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using Backups.Core.Backends;
using Backups.Core.Buffers;
using Backups.Core.Compression;
using Backups.Core.Crypto;
using Backups.Core.Packs;
using Backups.Core.Repositories;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Checking;

/// <summary>
/// restic's read-data check of one pack: its bytes hash to its name, its header decrypts and lists exactly what
/// the index says, and every blob authenticates and hashes to its id. The pack is read through <see cref="PackStream"/>
/// in windows of whole blobs, so memory stays at one window whatever the pack's size. A pack that fails is read again (as a blob load is,
/// <see cref="Repo.Downloads"/> times in all): one that then passes was damaged only on the way, which is a
/// warning; one that fails every time is damaged in the store.
/// </summary>
internal sealed class PackCheck(Repo repo, CheckIndex index, CheckReport target, int windowSize)
{
    /// <summary>Reads and verifies the pack; returns the bytes read.</summary>
    public async Task<long> ReadAsync(IndexedPack pack, long size, CancellationToken ct)
    {
        var name = FileLayout.RelativePath(new FileHandle(FileKind.Pack, pack.Id.ToString()));
        for (var read = 1; ; read++)
        {
            var found = new CheckReport();
            await ReadOnceAsync(pack, size, found, ct);
            if (!found.IsDamaged && read == 1) return size * read;
            if (!found.IsDamaged)
            {
                target.CountDamagedInTransit();
                target.Warning(name, $"{name} was damaged in transit only: read {read} times, it verified the last time");
                return size * read;
            }
            if (read == Repo.Downloads)
            {
                foreach (var p in found.Problems)
                    target.Add(p.Severity, p.File, p.Blob, p.Severity == ProblemSeverity.Error ? $"{p.Message} (in the store: in all {read} reads)" : p.Message);
                return size * read;
            }
        }
    }

    private async Task ReadOnceAsync(IndexedPack pack, long size, CheckReport report, CancellationToken ct)
    {
        var file = new FileHandle(FileKind.Pack, pack.Id.ToString());
        var name = FileLayout.RelativePath(file);
        // Entries past the end (or empty) are reported by the structure check; the rest are read in offset order.
        var indexed = index.BlobsOf(pack).ToArray();
        var blobs = indexed.OrderBy(b => b.Offset).ToArray();
        try
        {
            await CheckHeaderAsync(file, name, indexed, size, report, ct);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await PackStream.ReadAsync(repo.Backend, file, [.. blobs.Select(b => new PackSpan(b.Offset, b.Length))], windowSize,
                (i, stored) =>
                {
                    VerifyBlob(name, blobs[i], stored.Span, report);
                    return ValueTask.CompletedTask;
                }, ct, wholeSize: size, onWindow: bytes => hash.AppendData(bytes.Span));
            if (new Id(hash.GetHashAndReset()) != pack.Id)
                report.Error(name, null, $"{name} is damaged: its content does not hash to its name");
        }
        catch (Exception e) when (e is FileNotFoundInBackendException or EndOfStreamException)
        {
            report.Error(name, null, $"{name} cannot be read: {e.Message}");
        }
        catch (RepositoryException e) when (e.Kind == ErrorKind.Damaged)
        {
            report.Error(name, null, e.Message);
        }
    }

    /// <summary>The header at the end of the pack must decrypt, parse, and list the same blobs as the index.</summary>
    private async Task CheckHeaderAsync(FileHandle file, string name, IndexedBlob[] blobs, long size, CheckReport report, CancellationToken ct)
    {
        if (size < PackHeader.TrailerSize + CryptoKey.Overhead)
        {
            report.Error(name, null, $"{name} is damaged: {size} bytes cannot hold a pack header");
            return;
        }
        var trailer = await repo.Backend.LoadAsync(file, size - PackHeader.TrailerSize, PackHeader.TrailerSize, ct);
        var headerLength = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        if (headerLength < CryptoKey.Overhead || headerLength > size - PackHeader.TrailerSize)
        {
            report.Error(name, null, $"{name} is damaged: its header length field says {headerLength} bytes in a pack of {size}");
            return;
        }
        var headerStart = size - PackHeader.TrailerSize - headerLength;
        var sealedHeader = await repo.Backend.LoadAsync(file, headerStart, (int)headerLength, ct);
        var plain = new byte[headerLength - CryptoKey.Overhead];
        if (!repo.Key.TryOpen(sealedHeader, plain))
        {
            report.Error(name, null, $"{name} is damaged: its header does not authenticate");
            return;
        }
        List<(PackEntry Entry, uint Offset)> entries;
        try
        {
            entries = PackHeader.Parse(plain, name);
        }
        catch (RepositoryException e)
        {
            report.Error(name, null, e.Message);
            return;
        }
        var listed = new Dictionary<(Id, BlobType, uint), PackEntry>(entries.Count);
        foreach (var (entry, offset) in entries) listed.TryAdd((entry.Id, entry.Type, offset), entry);
        foreach (var b in blobs)
        {
            if (!listed.Remove((b.Id, b.Type, b.Offset), out var entry))
                report.Error(name, b.Id, $"{Kind(b.Type)} blob {b.Id} at offset {b.Offset} in {name} is in the index but not in the pack's header");
            else if (entry.Length != b.Length || entry.UncompressedLength != b.UncompressedLength)
                report.Error(name, b.Id, $"{Kind(b.Type)} blob {b.Id} in {name}: the header says {entry.Length} bytes ({entry.UncompressedLength} uncompressed), the index {b.Length} ({b.UncompressedLength})");
        }
        foreach (var ((id, type, offset), _) in listed)
            report.Error(name, id, $"{Kind(type)} blob {id} at offset {offset} in {name} is in the pack's header but in no index");
        var blobsEnd = entries.Count == 0 ? 0 : entries[^1].Offset + entries[^1].Entry.Length;
        if (blobsEnd != headerStart)
            report.Error(name, null, $"{name} is damaged: its header lists blobs up to byte {blobsEnd}, but the header starts at {headerStart}");
    }

    private void VerifyBlob(string pack, IndexedBlob blob, ReadOnlySpan<byte> stored, CheckReport report)
    {
        var problem = Verify(blob, stored);
        if (problem != null) report.Error(pack, blob.Id, $"{Kind(blob.Type)} blob {blob.Id} in {pack} is damaged: {problem}");
    }

    /// <summary>Null when the blob is genuine, else what is wrong with it.</summary>
    private string? Verify(IndexedBlob blob, ReadOnlySpan<byte> stored)
    {
        if (stored.Length < CryptoKey.Overhead) return "too short to be encrypted data";
        var plainLength = stored.Length - CryptoKey.Overhead;
        var plain = BufferPool.Large.Rent(plainLength);
        byte[]? unpacked = null;
        try
        {
            if (!repo.Key.TryOpen(stored, plain)) return "its authentication code does not match";
            ReadOnlySpan<byte> content = plain.AsSpan(0, plainLength);
            if (blob.UncompressedLength > Zstd.MaxDecompressedLength)
                return $"it claims {blob.UncompressedLength} bytes uncompressed, more than the {Zstd.MaxDecompressedLength >> 20} MiB allowed";
            if (blob.UncompressedLength != 0)
            {
                unpacked = BufferPool.Large.Rent((int)blob.UncompressedLength);
                int n;
                try
                {
                    n = Zstd.Decompress(content, unpacked.AsSpan(0, (int)blob.UncompressedLength));
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    return $"it does not decompress ({e.Message})";
                }
                if (n != blob.UncompressedLength) return $"it decompresses to {n} bytes, not {blob.UncompressedLength}";
                content = unpacked.AsSpan(0, n);
            }
            return Id.Hash(content) == blob.Id ? null : "its content does not hash to its id";
        }
        finally
        {
            BufferPool.Large.Return(plain);
            if (unpacked != null) BufferPool.Large.Return(unpacked);
        }
    }

    internal static string Kind(BlobType type) => type == BlobType.Data ? "data" : "tree";
}
