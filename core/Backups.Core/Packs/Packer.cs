using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using Backups.Core.Backends;
using Backups.Core.Compression;
using Backups.Core.Crypto;
using Backups.Core.Indexes;
using Backups.Core.Json;
using Repo = Backups.Core.Repository.Repository;

namespace Backups.Core.Packs;

/// <summary>What a backup added to the repository.</summary>
public sealed class PackerStats
{
    public long BlobsAdded;
    public long BytesAdded;        // plaintext of the new blobs
    public long BytesStored;       // what the new blobs take in packs
    public int PacksStored;
}

/// <summary>
/// Groups new blobs into packs (one open pack per blob type), stores finished packs, and records them in the
/// index. Callers on many threads save blobs at once: each reserves its place in the open pack under a short
/// lock and encrypts straight into the pack's buffer outside it. Memory is bounded by a fixed number of
/// pack buffers; a saver waits when all are in use. Index files are written only after the packs they name.
/// </summary>
public sealed class Packer : IAsyncDisposable
{
    public const int PackSize = 16 * 1024 * 1024;
    // restic starts a new index file every ~50,000 blobs; writing them as we go keeps a crashed backup's
    // finished packs usable by the next run.
    private const int IndexFileBlobs = 50_000;

    private readonly Repo _repo;
    private readonly SemaphoreSlim _uploadSlots;
    private readonly SemaphoreSlim _reserve = new(1, 1);
    private readonly OpenPack?[] _open = new OpenPack?[2];
    private readonly HashSet<(BlobType, Id)> _pending = [];
    private readonly List<Task> _uploads = [];
    private readonly List<(Id Pack, IReadOnlyList<(PackEntry Entry, uint Offset)> Blobs)> _unindexed = [];
    private readonly SemaphoreSlim _indexWrite = new(1, 1);
    private volatile Exception? _failure;

    public PackerStats Stats { get; } = new();

    /// <param name="uploads">How many finished packs may be stored at once (more helps a remote store);
    /// with the open packs, this bounds the memory packing takes.</param>
    public Packer(Repo repo, int uploads = 2)
    {
        _repo = repo;
        _uploadSlots = new SemaphoreSlim(uploads);
    }

    /// <summary>Stores a blob unless the repository (or this packer) already has it.</summary>
    /// <returns>Whether the blob was new.</returns>
    public async ValueTask<bool> SaveAsync(BlobType type, Id id, ReadOnlyMemory<byte> plaintext, CancellationToken ct = default)
    {
        if (_failure != null) throw new IOException("storing a pack failed", _failure);
        if (_repo.Index.Has(type, id)) return false;
        lock (_pending)
            if (!_pending.Add((type, id))) return false;

        var (segment, entry) = Seal(type, id, plaintext.Span);
        try
        {
            await AddAsync(entry, segment, ct);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(segment);
            throw;
        }
        Interlocked.Increment(ref Stats.BlobsAdded);
        Interlocked.Add(ref Stats.BytesAdded, plaintext.Length);
        Interlocked.Add(ref Stats.BytesStored, entry.Length);
        return true;
    }

    /// <summary>Compresses (when it pays) and encrypts a blob into a pooled buffer of its own.</summary>
    private (byte[] Segment, PackEntry Entry) Seal(BlobType type, Id id, ReadOnlySpan<byte> plaintext)
    {
        var compress = _repo.Compresses && (type == BlobType.Tree || _repo.Compression != CompressionMode.Off);
        var segment = ArrayPool<byte>.Shared.Rent((compress ? Zstd.Bound(plaintext.Length) : plaintext.Length) + CryptoKey.Overhead);
        if (compress)
        {
            // Compress straight to where the ciphertext goes, then encrypt in place.
            var payload = segment.AsSpan(CryptoKey.IvSize, segment.Length - CryptoKey.Overhead);
            var n = Zstd.TryCompress(plaintext, payload, type == BlobType.Tree ? CompressionMode.Auto : _repo.Compression);
            if (n > 0)
            {
                _repo.Key.Seal(payload[..n], segment.AsSpan(0, n + CryptoKey.Overhead));
                return (segment, new PackEntry(id, type, (uint)(n + CryptoKey.Overhead), (uint)plaintext.Length));
            }
        }
        _repo.Key.Seal(plaintext, segment.AsSpan(0, plaintext.Length + CryptoKey.Overhead));
        return (segment, new PackEntry(id, type, (uint)(plaintext.Length + CryptoKey.Overhead), 0));
    }

    private async ValueTask AddAsync(PackEntry entry, byte[] segment, CancellationToken ct)
    {
        await _reserve.WaitAsync(ct);
        try
        {
            var pack = _open[(int)entry.Type];
            if (pack != null && !pack.Fits(entry))
            {
                // Waiting for an upload slot here holds up every saver: that is the back-pressure.
                await _uploadSlots.WaitAsync(ct);
                StartUpload(pack);
                pack = null;
            }
            (pack ??= _open[(int)entry.Type] = new OpenPack()).Add(entry, segment);
        }
        finally
        {
            _reserve.Release();
        }
    }

    private void StartUpload(OpenPack pack)
    {
        _open[Array.IndexOf(_open, pack)] = null;
        // Hashing and storing run off the reservation lock, so savers keep filling the next pack.
        lock (_uploads) _uploads.Add(Task.Run(() => StoreAsync(pack)));
    }

    private async Task StoreAsync(OpenPack pack)
    {
        try
        {
            var (bytes, blobs) = pack.Finish(_repo.Key);
            var id = Hash(bytes);
            await _repo.Backend.SaveAsync(new FileHandle(FileKind.Pack, id.ToString()), bytes);
            foreach (var (entry, offset) in blobs)
                _repo.Index.Add(new BlobLocation(id, entry.Type, offset, entry.Length, entry.UncompressedLength), entry.Id);
            Interlocked.Increment(ref Stats.PacksStored);
            int unindexed;
            lock (_unindexed)
            {
                _unindexed.Add((id, blobs));
                unindexed = _unindexed.Sum(p => p.Blobs.Count);
            }
            if (unindexed >= IndexFileBlobs) await WriteIndexAsync();
        }
        catch (Exception e)
        {
            _failure ??= e;
            throw;
        }
        finally
        {
            pack.Dispose();
            _uploadSlots.Release();
        }
    }

    private static Id Hash(ReadOnlySequence<byte> bytes)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var segment in bytes) hash.AppendData(segment.Span);
        Span<byte> digest = stackalloc byte[Id.Size];
        hash.GetHashAndReset(digest);
        return new Id(digest);
    }

    private async Task WriteIndexAsync()
    {
        await _indexWrite.WaitAsync();
        try
        {
            List<(Id, IReadOnlyList<(PackEntry, uint)>)> packs;
            lock (_unindexed)
            {
                packs = [.. _unindexed];
                _unindexed.Clear();
            }
            if (packs.Count == 0) return;
            var json = RepositoryJson.Serialize(MasterIndex.Describe(packs), RepositoryJson.Context.IndexFile);
            await _repo.SaveUnpackedAsync(FileKind.Index, json);
        }
        finally
        {
            _indexWrite.Release();
        }
    }

    /// <summary>Stores the open packs, waits for every upload, then writes the index of what was stored.
    /// Only after this returns may a snapshot refer to the saved blobs.</summary>
    public async Task FlushAsync(CancellationToken ct = default)
    {
        await _reserve.WaitAsync(ct);
        try
        {
            foreach (var pack in _open.ToArray())
                if (pack != null)
                {
                    await _uploadSlots.WaitAsync(ct);
                    StartUpload(pack);
                }
        }
        finally
        {
            _reserve.Release();
        }
        Task[] uploads;
        lock (_uploads) uploads = [.. _uploads];
        await Task.WhenAll(uploads);
        if (_failure != null) throw new IOException("storing a pack failed", _failure);
        await WriteIndexAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Task[] uploads;
        lock (_uploads) uploads = [.. _uploads];
        try { await Task.WhenAll(uploads); } catch { /* already reported through FlushAsync or SaveAsync */ }
        foreach (var pack in _open) pack?.Dispose();
    }

    /// <summary>A pack being filled: its blobs' sealed buffers in order, back to back from offset 0.</summary>
    private sealed class OpenPack : IDisposable
    {
        private readonly List<(PackEntry Entry, uint Offset)> _blobs = [];
        private readonly List<byte[]> _segments = [];
        private int _length, _headerLength;

        private static int Tail(int headerLength) => headerLength + CryptoKey.Overhead + PackHeader.TrailerSize;

        public bool Fits(PackEntry e) => _length + (int)e.Length + Tail(_headerLength + e.HeaderSize) <= PackSize;

        public void Add(PackEntry e, byte[] segment)
        {
            _blobs.Add((e, (uint)_length));
            _segments.Add(segment);
            _length += (int)e.Length;
            _headerLength += e.HeaderSize;
        }

        /// <summary>The pack's bytes: the blobs, the encrypted header, and the header's length.</summary>
        public (ReadOnlySequence<byte> Bytes, IReadOnlyList<(PackEntry, uint)> Blobs) Finish(CryptoKey key)
        {
            var header = ArrayPool<byte>.Shared.Rent(Tail(_headerLength));
            var plain = ArrayPool<byte>.Shared.Rent(_headerLength);
            try
            {
                var n = PackHeader.Write(_blobs.Select(b => b.Entry).ToList(), plain);
                key.Seal(plain.AsSpan(0, n), header);
                BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(n + CryptoKey.Overhead), (uint)(n + CryptoKey.Overhead));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(plain);
            }
            _segments.Add(header);
            Segment? first = null, last = null;
            for (var i = 0; i < _segments.Count; i++)
            {
                var length = i < _blobs.Count ? (int)_blobs[i].Entry.Length : Tail(_headerLength);
                last = last == null ? first = new Segment(_segments[i].AsMemory(0, length), 0) : last.Append(_segments[i].AsMemory(0, length));
            }
            return (new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length), _blobs);
        }

        public void Dispose()
        {
            foreach (var s in _segments) ArrayPool<byte>.Shared.Return(s);
            _segments.Clear();
        }
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory) => (Segment)(Next = new Segment(memory, RunningIndex + Memory.Length));
    }
}
