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
    private readonly SemaphoreSlim _buffers;
    private readonly SemaphoreSlim _reserve = new(1, 1);
    private readonly OpenPack?[] _open = new OpenPack?[2];
    private readonly HashSet<(BlobType, Id)> _pending = [];
    private readonly List<Task> _uploads = [];
    private readonly List<(Id Pack, IReadOnlyList<(PackEntry Entry, uint Offset)> Blobs)> _unindexed = [];
    private readonly SemaphoreSlim _indexWrite = new(1, 1);
    private volatile Exception? _failure;

    public PackerStats Stats { get; } = new();

    /// <param name="uploads">How many finished packs may be stored at once (more helps a remote store).</param>
    public Packer(Repo repo, int uploads = 2)
    {
        _repo = repo;
        _buffers = new SemaphoreSlim(_open.Length + uploads);
    }

    /// <summary>Stores a blob unless the repository (or this packer) already has it.</summary>
    /// <returns>Whether the blob was new.</returns>
    public async ValueTask<bool> SaveAsync(BlobType type, Id id, ReadOnlyMemory<byte> plaintext, CancellationToken ct = default)
    {
        if (_failure != null) throw new IOException("storing a pack failed", _failure);
        if (_repo.Index.Has(type, id)) return false;
        lock (_pending)
            if (!_pending.Add((type, id))) return false;

        byte[]? compressed = null;
        var payloadLength = plaintext.Length;
        uint uncompressedLength = 0;
        if (_repo.Compresses && (type == BlobType.Tree || _repo.Compression != CompressionMode.Off))
        {
            compressed = ArrayPool<byte>.Shared.Rent(Zstd.Bound(plaintext.Length));
            var n = Zstd.TryCompress(plaintext.Span, compressed, type == BlobType.Tree ? CompressionMode.Auto : _repo.Compression);
            if (n > 0)
            {
                payloadLength = n;
                uncompressedLength = (uint)plaintext.Length;
            }
        }
        try
        {
            var stored = payloadLength + CryptoKey.Overhead;
            var entry = new PackEntry(id, type, (uint)stored, uncompressedLength);
            var (pack, offset) = await ReserveAsync(entry, ct);
            var payload = uncompressedLength != 0 ? compressed.AsSpan(0, payloadLength) : plaintext.Span;
            _repo.Key.Seal(payload, pack.Buffer.AsSpan(offset, stored));
            pack.WriterDone();
            Interlocked.Increment(ref Stats.BlobsAdded);
            Interlocked.Add(ref Stats.BytesAdded, plaintext.Length);
            Interlocked.Add(ref Stats.BytesStored, stored);
            return true;
        }
        finally
        {
            if (compressed != null) ArrayPool<byte>.Shared.Return(compressed);
        }
    }

    private async ValueTask<(OpenPack, int)> ReserveAsync(PackEntry entry, CancellationToken ct)
    {
        await _reserve.WaitAsync(ct);
        try
        {
            var pack = _open[(int)entry.Type];
            if (pack != null && !pack.Fits(entry))
            {
                Seal(pack);
                pack = null;
            }
            if (pack == null)
            {
                await _buffers.WaitAsync(ct);
                pack = _open[(int)entry.Type] = new OpenPack();
            }
            return (pack, pack.Reserve(entry));
        }
        finally
        {
            _reserve.Release();
        }
    }

    private void Seal(OpenPack pack)
    {
        _open[Array.IndexOf(_open, pack)] = null;
        lock (_uploads) _uploads.Add(StoreAsync(pack));
    }

    private async Task StoreAsync(OpenPack pack)
    {
        try
        {
            await pack.Sealed();
            var (bytes, blobs) = pack.Finish(_repo.Key);
            var id = new Id(SHA256.HashData(bytes.Span));
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
            _buffers.Release();
        }
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
                if (pack != null) Seal(pack);
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

    /// <summary>A pack being filled: blobs lie back to back from offset 0, in the order they reserved.</summary>
    private sealed class OpenPack : IDisposable
    {
        public byte[] Buffer { get; } = ArrayPool<byte>.Shared.Rent(PackSize);
        private readonly List<(PackEntry Entry, uint Offset)> _blobs = [];
        private int _length, _headerLength, _writers;
        private bool _sealed;
        private readonly TaskCompletionSource _written = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private static int Tail(int headerLength) => headerLength + CryptoKey.Overhead + PackHeader.TrailerSize;

        public bool Fits(PackEntry e) => _length + (int)e.Length + Tail(_headerLength + e.HeaderSize) <= Buffer.Length;

        public int Reserve(PackEntry e)
        {
            lock (_blobs)
            {
                var offset = _length;
                _blobs.Add((e, (uint)offset));
                _length += (int)e.Length;
                _headerLength += e.HeaderSize;
                _writers++;
                return offset;
            }
        }

        public void WriterDone()
        {
            lock (_blobs)
                if (--_writers == 0 && _sealed) _written.TrySetResult();
        }

        /// <summary>No more reservations; completes when every reserved blob is written.</summary>
        public Task Sealed()
        {
            lock (_blobs)
            {
                _sealed = true;
                if (_writers == 0) _written.TrySetResult();
            }
            return _written.Task;
        }

        public (ReadOnlyMemory<byte> Bytes, IReadOnlyList<(PackEntry, uint)> Blobs) Finish(CryptoKey key)
        {
            var header = ArrayPool<byte>.Shared.Rent(_headerLength);
            try
            {
                var n = PackHeader.Write(_blobs.Select(b => b.Entry).ToList(), header);
                key.Seal(header.AsSpan(0, n), Buffer.AsSpan(_length, n + CryptoKey.Overhead));
                var end = _length + n + CryptoKey.Overhead;
                BinaryPrimitives.WriteUInt32LittleEndian(Buffer.AsSpan(end), (uint)(n + CryptoKey.Overhead));
                return (Buffer.AsMemory(0, end + PackHeader.TrailerSize), _blobs);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(header);
            }
        }

        public void Dispose() => ArrayPool<byte>.Shared.Return(Buffer);
    }
}
