using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using Backups.Core.Backends;
using Backups.Core.Buffers;
using Backups.Core.Compression;
using Backups.Core.Crypto;
using Backups.Core.Indexes;
using Backups.Core.Json;
using Backups.Core.Repositories;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Packs;

/// <summary>A blob compressed and encrypted into a pooled buffer, on its way into a pack.</summary>
internal readonly record struct SealedBlob(PackEntry Entry, byte[] Segment);

/// <summary>
/// Turns new blobs into packs. Savers on many threads compress and encrypt their blob into a buffer of its
/// own; one packing task appends the sealed blobs, in arrival order, to a pending pack file per blob type
/// (hashing as it goes) and frees each buffer at once, so a local repository holds no pack in memory. A full
/// pack is finished (header, sync or upload) in the background, a bounded number at a time. Index files are
/// written only after the packs they name are stored. Only the repository uses it: callers save blobs through
/// <see cref="Repo.SaveBlobAsync(BlobType, Id, ReadOnlyMemory{byte}, IDisposable?, CancellationToken)"/>.
/// </summary>
internal sealed class Packer : IAsyncDisposable
{
    public const int PackSize = 16 * 1024 * 1024;
    // restic starts a new index file every ~50,000 blobs; writing them as we go keeps a crashed backup's
    // finished packs usable by the next run.
    private const int IndexFileBlobs = 50_000;

    private readonly Repo _repo;
    private readonly Channel<(PackEntry Entry, byte[] Segment)> _sealed;
    private readonly Task _packing;
    private readonly SemaphoreSlim _storeSlots;
    private readonly List<Task> _stores = [];
    private readonly OpenPack?[] _open = new OpenPack?[2];
    private readonly HashSet<(BlobType, Id)> _pending = [];
    private readonly List<(Id Pack, IReadOnlyList<(PackEntry Entry, uint Offset)> Blobs)> _unindexed = [];
    private readonly SemaphoreSlim _indexWrite = new(1, 1);
    private volatile Exception? _failure;
    private volatile bool _discard;

    /// <param name="uploads">How many finished packs may be stored at once (more helps a remote store).</param>
    public Packer(Repo repo, int uploads = 2)
    {
        _repo = repo;
        _storeSlots = new SemaphoreSlim(uploads);
        _sealed = Channel.CreateBounded<(PackEntry, byte[])>(new BoundedChannelOptions(2) { SingleReader = true });
        _packing = Task.Run(PackAsync);
    }

    /// <summary>Accepts a blob unless the repository (or this packer) already has it; the plaintext's owner is let
    /// go as soon as the blob is sealed, before any wait for the packing stage, so a waiting saver holds one buffer,
    /// not two.</summary>
    /// <returns>The blob's stored length when it was new, else null.</returns>
    public async ValueTask<int?> SaveAsync(BlobType type, Id id, ReadOnlyMemory<byte> plaintext, IDisposable? owner, ContentKind kind,
        CancellationToken ct)
    {
        SealedBlob? blob;
        using (owner) blob = TrySeal(type, id, plaintext.Span, kind);
        if (blob is not { } b) return null;
        await AddAsync(b, ct);
        return (int)b.Entry.Length;
    }

    /// <summary>Compresses and encrypts a new blob into a buffer of its own, or returns null when it is known.</summary>
    private SealedBlob? TrySeal(BlobType type, Id id, ReadOnlySpan<byte> plaintext, ContentKind kind)
    {
        ThrowIfFailed();
        // Under the lock that also moves stored blobs from pending into the index: checked apart, a blob could
        // leave pending between the two checks and be stored twice.
        lock (_pending)
            if (_repo.Index.Has(type, id) || !_pending.Add((type, id))) return null;
        return Seal(type, id, plaintext, kind);
    }

    /// <summary>
    /// Puts a verified blob from an old pack into a new one, whatever the index says (prune's repack: the index still
    /// lists it in the pack being replaced). Its verified stored form is kept when given and final; restic compresses
    /// trees that a v2 repository holds uncompressed, so such a tree is sealed anew.
    /// </summary>
    public ValueTask CopyAsync(PackEntry entry, ReadOnlySpan<byte> stored, ReadOnlySpan<byte> plaintext, CancellationToken ct)
    {
        ThrowIfFailed();
        if (stored.IsEmpty || (_repo.Compresses && entry.Type == BlobType.Tree && entry.UncompressedLength == 0))
            return AddAsync(Seal(entry.Type, entry.Id, plaintext, ContentKind.General), ct);
        var segment = BufferPool.Large.Rent(stored.Length);
        stored.CopyTo(segment);
        return AddAsync(new SealedBlob(entry, segment), ct);
    }

    /// <summary>Hands a sealed blob to the packing stage (and its buffer with it).</summary>
    private async ValueTask AddAsync(SealedBlob blob, CancellationToken ct)
    {
        try
        {
            await _sealed.Writer.WriteAsync((blob.Entry, blob.Segment), ct);
        }
        catch
        {
            BufferPool.Large.Return(blob.Segment);
            ThrowIfFailed();
            throw;
        }
    }

    private void ThrowIfFailed()
    {
        if (_failure != null) throw new IOException("storing a pack failed", _failure);
    }

    /// <summary>Compresses (when it pays) and encrypts a blob into a pooled buffer of its own.</summary>
    private SealedBlob Seal(BlobType type, Id id, ReadOnlySpan<byte> plaintext, ContentKind kind)
    {
        var compress = _repo.Compresses && (type == BlobType.Tree || _repo.Compression != CompressionMode.Off);
        var segment = BufferPool.Large.Rent((compress ? Zstd.Bound(plaintext.Length) : plaintext.Length) + CryptoKey.Overhead);
        if (compress)
        {
            // Compress straight to where the ciphertext goes, then encrypt in place.
            var payload = segment.AsSpan(CryptoKey.IvSize, segment.Length - CryptoKey.Overhead);
            var n = type == BlobType.Tree
                ? Zstd.TryCompress(plaintext, payload, CompressionMode.Auto)
                : Zstd.TryCompress(plaintext, payload, _repo.Compression, kind);
            if (n > 0)
            {
                _repo.Key.Seal(payload[..n], segment.AsSpan(0, n + CryptoKey.Overhead));
                return new SealedBlob(new PackEntry(id, type, (uint)(n + CryptoKey.Overhead), (uint)plaintext.Length), segment);
            }
        }
        _repo.Key.Seal(plaintext, segment.AsSpan(0, plaintext.Length + CryptoKey.Overhead));
        return new SealedBlob(new PackEntry(id, type, (uint)(plaintext.Length + CryptoKey.Overhead), 0), segment);
    }

    /// <summary>The packing stage: the only place that touches open packs.</summary>
    private async Task PackAsync()
    {
        try
        {
            await foreach (var (entry, segment) in _sealed.Reader.ReadAllAsync())
            {
                try
                {
                    if (_discard || _failure != null) continue;
                    var pack = _open[(int)entry.Type];
                    if (pack != null && !pack.Fits(entry))
                    {
                        await StartStoreAsync(pack);
                        pack = null;
                    }
                    pack ??= _open[(int)entry.Type] = new OpenPack(await _repo.Backend.BeginAsync(FileKind.Pack, entry.Type));
                    await pack.AddAsync(entry, segment);
                }
                finally
                {
                    BufferPool.Large.Return(segment);
                }
            }
            foreach (var pack in _open)
                if (pack != null && !_discard) await StartStoreAsync(pack);
        }
        catch (Exception e)
        {
            _failure ??= e;
            while (_sealed.Reader.TryRead(out var item)) BufferPool.Large.Return(item.Segment);
        }
        finally
        {
            for (var i = 0; i < _open.Length; i++)
            {
                if (_open[i] is { } left) await left.DisposeAsync();
                _open[i] = null;
            }
        }
    }

    private async Task StartStoreAsync(OpenPack pack)
    {
        _open[Array.IndexOf(_open, pack)] = null;
        // Waiting for a slot holds up the packing stage, and through its channel every saver: back-pressure.
        await _storeSlots.WaitAsync();
        lock (_stores) _stores.Add(Task.Run(() => StoreAsync(pack)));
    }

    private async Task StoreAsync(OpenPack pack)
    {
        try
        {
            // A process whose lock was lost stores nothing more: a prune may already be deleting around it.
            _repo.Locks.ThrowIfLost();
            var (id, blobs) = await pack.FinishAsync(_repo.Key);
            // Pending only while on the way: a backup of millions of blobs would otherwise hold each twice. Copies
            // (prune's repack) were never pending and stay out of the in-memory index: prune describes the new packs
            // through the index files written here, and nothing in it looks them up.
            lock (_pending)
                foreach (var (entry, offset) in blobs)
                    if (_pending.Remove((entry.Type, entry.Id)))
                        _repo.Index.Add(new BlobLocation(id, entry.Type, offset, entry.Length, entry.UncompressedLength), entry.Id);
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
            await pack.DisposeAsync();
            _storeSlots.Release();
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
            await _repo.SaveUnpackedAsync(FileKind.Index, output =>
            {
                using var json = new Utf8JsonWriter(output);
                IndexJson.StartFile(json);
                foreach (var (pack, blobs) in packs)
                {
                    IndexJson.StartPack(json, pack);
                    foreach (var (entry, offset) in blobs) IndexJson.Blob(json, entry.Id, entry.Type, offset, entry.Length, entry.UncompressedLength);
                    IndexJson.EndPack(json);
                }
                IndexJson.EndFile(json);
            });
        }
        finally
        {
            _indexWrite.Release();
        }
    }

    /// <summary>Stores every pack, then the index of what was stored. Only after this returns may a snapshot
    /// refer to the saved blobs. The packer takes no blobs afterwards.</summary>
    public async Task FlushAsync(CancellationToken ct = default)
    {
        _sealed.Writer.TryComplete();
        await _packing.WaitAsync(ct);
        Task[] stores;
        lock (_stores) stores = [.. _stores];
        try
        {
            await Task.WhenAll(stores).WaitAsync(ct);
        }
        catch when (_failure != null) { }
        ThrowIfFailed();
        await WriteIndexAsync();
    }

    /// <summary>Without a flush, whatever is not stored yet is discarded (nothing refers to it).</summary>
    public async ValueTask DisposeAsync()
    {
        _discard = true;
        _sealed.Writer.TryComplete();
        await _packing;
        Task[] stores;
        lock (_stores) stores = [.. _stores];
        try { await Task.WhenAll(stores); } catch { /* reported through FlushAsync or SaveAsync */ }
    }

    /// <summary>A pack being written: blobs back to back from offset 0, hashed as they are appended.</summary>
    private sealed class OpenPack(IPendingFile file) : IAsyncDisposable
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly List<(PackEntry Entry, uint Offset)> _blobs = [];
        private int _length, _headerLength;

        private static int Tail(int headerLength) => headerLength + CryptoKey.Overhead + PackHeader.TrailerSize;

        public bool Fits(PackEntry e) => _length + (int)e.Length + Tail(_headerLength + e.HeaderSize) <= PackSize;

        public async ValueTask AddAsync(PackEntry e, byte[] segment)
        {
            var data = segment.AsMemory(0, (int)e.Length);
            _hash.AppendData(data.Span);
            await file.WriteAsync(data);
            _blobs.Add((e, (uint)_length));
            _length += (int)e.Length;
            _headerLength += e.HeaderSize;
        }

        /// <summary>Appends the encrypted header and its length, and stores the pack under its hash.</summary>
        public async Task<(Id Id, IReadOnlyList<(PackEntry, uint)> Blobs)> FinishAsync(CryptoKey key)
        {
            var tail = BufferPool.Large.Rent(Tail(_headerLength));
            try
            {
                // Written where its ciphertext goes and encrypted in place: a pack of tiny blobs has a header of 6 MiB.
                var n = PackHeader.Write(_blobs.Select(b => b.Entry), tail.AsSpan(CryptoKey.IvSize));
                key.Seal(tail.AsSpan(CryptoKey.IvSize, n), tail);
                BinaryPrimitives.WriteUInt32LittleEndian(tail.AsSpan(n + CryptoKey.Overhead), (uint)(n + CryptoKey.Overhead));
                var bytes = tail.AsMemory(0, Tail(n));
                _hash.AppendData(bytes.Span);
                await file.WriteAsync(bytes);
            }
            finally
            {
                BufferPool.Large.Return(tail);
            }
            Span<byte> digest = stackalloc byte[Id.Size];
            _hash.GetHashAndReset(digest);
            var id = new Id(digest);
            await file.CommitAsync(id.ToString());
            return (id, _blobs);
        }

        public async ValueTask DisposeAsync()
        {
            _hash.Dispose();
            await file.DisposeAsync();
        }
    }
}
