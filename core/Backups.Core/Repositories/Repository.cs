using System.Buffers;
using System.Security.Cryptography;
using Backups.Core.Backends;
using Backups.Core.Buffers;
using Backups.Core.Chunking;
using Backups.Core.Compression;
using Backups.Core.Crypto;
using Backups.Core.Indexes;
using Backups.Core.Json;
using Backups.Core.Locks;
using Backups.Core.Packs;
using Backups.Core.Snapshots;

namespace Backups.Core.Repositories;

/// <summary>
/// An opened repository: its backend, master key and config, and (once loaded) the index of its blobs.
/// Everything stored goes through here, encrypted; everything loaded is verified before use.
/// </summary>
public sealed class Repository : IAsyncDisposable
{
    public IBackend Backend { get; }
    public CryptoKey Key { get; }
    public RepositoryConfig Config { get; }
    public Polynomial Polynomial { get; }
    public MasterIndex Index { get; } = new();
    /// <summary>The locks this process holds here; every write of index and snapshot files checks them.</summary>
    public HeldLocks Locks { get; } = new();
    public CompressionMode Compression { get; set; } = CompressionMode.Auto;
    /// <summary>How many finished packs may be stored at once: the store's connection count where it has one (more
    /// helps a remote store), else two.</summary>
    public int PackUploads { get; set; }

    private Packer? _packer;
    private readonly Lock _packerGate = new();

    /// <summary>The key file the password opened (restic's KeyName): `key remove` refuses to remove it.</summary>
    public string KeyName { get; }

    /// <summary>Version 1 repositories store everything uncompressed.</summary>
    public bool Compresses => Config.Version >= 2;

    private Repository(IBackend backend, CryptoKey key, string keyName, RepositoryConfig config)
    {
        Backend = backend;
        PackUploads = backend.Connections ?? 2;
        Key = key;
        KeyName = keyName;
        Config = config;
        Polynomial = Polynomial.Parse(config.ChunkerPolynomial);
    }

    /// <param name="polynomial">The chunker polynomial, random when null; a given one is what restic's
    /// `init --copy-chunker-params` does, and lets tests cut chunks at known places.</param>
    public static async Task<Repository> InitAsync(IBackend backend, string password, int version = 2, Polynomial? polynomial = null,
        CancellationToken ct = default)
    {
        if (version is not (1 or 2)) throw new RepositoryException(ErrorKind.UnsupportedVersion, $"repository version {version} is not supported (1 or 2)");
        // As restic: an empty password would leave the master key readable by anyone who can read keys/.
        if (password.Length == 0) throw new RepositoryException(ErrorKind.InvalidArgument, "empty passwords are not allowed");
        if (await backend.StatAsync(FileHandle.Config, ct) != null)
            throw new RepositoryException(ErrorKind.AlreadyExists, $"a repository already exists at {backend.Location}");
        await backend.CreateAsync(ct);

        var master = CryptoKey.Random();
        var config = new RepositoryConfig
        {
            Version = version,
            Id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)),
            ChunkerPolynomial = (polynomial ?? Polynomial.Random()).ToString(),
        };
        var keyJson = RepositoryJson.Serialize(KeyFile.Create(master, password), RepositoryJson.Context.KeyFile);
        var keyName = Id.Hash(keyJson).ToString();
        await backend.SaveAsync(new FileHandle(FileKind.Key, keyName), keyJson, ct);
        // The config is written last: until it exists, nobody takes the folder for a repository.
        var configJson = RepositoryJson.Serialize(config, RepositoryJson.Context.RepositoryConfig);
        await backend.SaveAsync(FileHandle.Config, master.Seal(configJson), ct);
        return new Repository(backend, master, keyName, config);
    }

    public static async Task<Repository> OpenAsync(IBackend backend, string password, CancellationToken ct = default)
    {
        if (await backend.StatAsync(FileHandle.Config, ct) == null)
            throw new RepositoryException(ErrorKind.RepositoryNotFound, $"there is no repository at {backend.Location} (no config file)");

        var (master, keyName) = await FindMasterKeyAsync(backend, password, ct);
        var sealedConfig = await backend.LoadAsync(FileHandle.Config, ct: ct);
        var plainConfig = new byte[Math.Max(0, sealedConfig.Length - CryptoKey.Overhead)];
        if (sealedConfig.Length < CryptoKey.Overhead || !master.TryOpen(sealedConfig, plainConfig))
            throw new RepositoryException(ErrorKind.Damaged, "config is damaged: it does not decrypt with the repository's key");
        var config = RepositoryJson.Deserialize(plainConfig, RepositoryJson.Context.RepositoryConfig, "config");
        if (config.Version is not (1 or 2))
            throw new RepositoryException(ErrorKind.UnsupportedVersion, $"repository version {config.Version} is not supported (this program reads versions 1 and 2)");
        if (!Polynomial.TryParse(config.ChunkerPolynomial, out _))
            throw new RepositoryException(ErrorKind.Damaged, $"config is damaged: chunker polynomial '{config.ChunkerPolynomial}' is invalid");
        return new Repository(backend, master, keyName, config);
    }

    /// <summary>restic tries at most this many key files (its maxKeys) before it gives up.</summary>
    public const int MaxKeysTried = 20;

    /// <summary>A key file is a few hundred bytes of JSON; a much bigger one is not even loaded.</summary>
    public const long MaxKeyFileSize = 64 << 10;

    /// <summary>
    /// The master key of the first key file the password opens. A key file that is damaged or asks for more scrypt
    /// work than <see cref="Scrypt"/> allows is passed over (a planted one must not lock everyone out); it is the
    /// error only when no key could even be tried, else the password is wrong and the message names it too.
    /// </summary>
    private static async Task<(CryptoKey Master, string KeyName)> FindMasterKeyAsync(IBackend backend, string password, CancellationToken ct)
    {
        RepositoryException? refused = null;
        int listed = 0, tried = 0;
        await foreach (var (name, size) in backend.ListAsync(FileKind.Key, ct))
        {
            if (!Id.TryParse(name, out _)) continue;
            if (++listed > MaxKeysTried) break;
            var file = new FileHandle(FileKind.Key, name);
            try
            {
                if (size > MaxKeyFileSize)
                    throw new RepositoryException(ErrorKind.Damaged, $"{file} is damaged: {size} bytes is far too big for a key file");
                var keyFile = RepositoryJson.Deserialize(await backend.LoadAsync(file, ct: ct), RepositoryJson.Context.KeyFile, file.ToString());
                var master = keyFile.TryOpen(password, file.ToString());
                if (master != null) return (master, name);
                tried++;
            }
            catch (RepositoryException e) when (e.Kind is ErrorKind.Damaged or ErrorKind.UnsupportedVersion)
            {
                refused ??= e;
            }
        }
        if (listed == 0) throw new RepositoryException(ErrorKind.Damaged, $"the repository at {backend.Location} has no key files");
        if (tried == 0 && refused != null) throw refused;
        var which = listed > MaxKeysTried ? $"none of the first {MaxKeysTried} key files opens with it (as restic, no more are tried)" : "no key in the repository opens with it";
        throw new RepositoryException(ErrorKind.WrongPassword, $"wrong password: {which}" + (refused == null ? "" : $" ({refused.Message}; passed over)"));
    }

    /// <summary>Loads, verifies and decrypts a stored file that is not a pack, and decompresses its JSON whole.</summary>
    public async Task<ReadOnlyMemory<byte>> LoadUnpackedAsync(FileHandle file, CancellationToken ct = default) =>
        (await OpenUnpackedAsync(file, ct)).Json();

    /// <summary>
    /// Loads a stored file that is not a pack, checks that its name is the hash of its bytes and decrypts it in place:
    /// an index file of many MiB is held once, still compressed (<see cref="UnpackedFile"/>).
    /// </summary>
    public async Task<UnpackedFile> OpenUnpackedAsync(FileHandle file, CancellationToken ct = default)
    {
        for (var download = 1; ; download++)
        {
            var stored = await Backend.LoadAsync(file, ct: ct);
            try
            {
                if (file.Kind != FileKind.Config && Id.Hash(stored).ToString() != file.Name)
                    throw new RepositoryException(ErrorKind.Damaged, $"{file} is damaged: its content does not match its name");
                OpenInPlace(stored, file.ToString());
                return new UnpackedFile(file, stored.AsMemory(CryptoKey.IvSize, stored.Length - CryptoKey.Overhead));
            }
            catch (RepositoryException e) when (e.Kind == ErrorKind.Damaged)
            {
                ThrowUnlessDownloadsLeft(e, download);
            }
        }
    }

    /// <summary>How often a file or blob that fails verification is downloaded before it is called damaged: a bit
    /// flipped on the way (a flaky link, proxy or NIC) reads right the next time, damage in the store never does.</summary>
    public const int Downloads = 3;

    /// <summary>Returns when another download is worth it; after the last one the damage is in the store.</summary>
    private static void ThrowUnlessDownloadsLeft(RepositoryException e, int download)
    {
        if (download >= Downloads) throw new RepositoryException(e.Kind, $"{e.Message} (the same in {Downloads} downloads)", e);
    }

    /// <summary>Loads, verifies and parses a typed file; one that does not parse is damaged, and the error says which.</summary>
    public async Task<T> LoadFileAsync<T>(RepositoryFile<T> type, string name, CancellationToken ct = default)
    {
        var file = type.Named(name);
        return RepositoryJson.Deserialize((await LoadUnpackedAsync(file, ct)).Span, type.Json, file.ToString());
    }

    /// <summary>Stores a typed file under the hash of its encrypted bytes; returns that id.</summary>
    public Task<Id> SaveFileAsync<T>(RepositoryFile<T> type, T value, CancellationToken ct = default) =>
        SaveUnpackedAsync(type.Kind, RepositoryJson.Serialize(value, type.Json), ct);

    /// <summary>Encrypts (and in v2 compresses) a JSON file and stores it under the hash of its bytes.</summary>
    public Task<Id> SaveUnpackedAsync(FileKind kind, ReadOnlyMemory<byte> json, CancellationToken ct = default) =>
        SaveUnpackedAsync(kind, output => output.Write(json.Span), ct);

    /// <summary>
    /// Stores the JSON file that <paramref name="write"/> writes, in v2 compressed as it is written, encrypted in place,
    /// under the hash of its bytes; returns that id. An index file (tens of MiB of JSON) is held only compressed, in
    /// one pooled buffer.
    /// </summary>
    public async Task<Id> SaveUnpackedAsync(FileKind kind, Action<IBufferWriter<byte>> write, CancellationToken ct = default)
    {
        // Right before an index or snapshot names packs: were our locks removed, a prune may have deleted them.
        if (kind is FileKind.Index or FileKind.Snapshot) await Locks.EnsureHeldAsync(ct);
        using var box = new PooledBufferWriter();
        box.GetSpan(CryptoKey.IvSize);
        box.Advance(CryptoKey.IvSize);
        if (Compresses)
        {
            // v2's mark of a compressed file; restic compresses even a tiny one (a lock) that does not shrink.
            box.GetSpan(1)[0] = 2;
            box.Advance(1);
            using var zstd = new ZstdWriter(box);
            write(zstd);
            zstd.Finish();
        }
        else write(box);
        var length = box.WrittenCount - CryptoKey.IvSize;
        box.GetSpan(CryptoKey.MacSize);
        box.Advance(CryptoKey.MacSize);
        var stored = box.WrittenMemory;
        Key.Seal(stored.Span.Slice(CryptoKey.IvSize, length), stored.Span);
        var id = Id.Hash(stored.Span);
        await Backend.SaveAsync(new FileHandle(kind, id.ToString()), stored, ct);
        return id;
    }

    public byte[] Open(ReadOnlySpan<byte> stored, string what)
    {
        ThrowIfTooShort(stored, what);
        var plain = GC.AllocateUninitializedArray<byte>(stored.Length - CryptoKey.Overhead);
        if (!Key.TryOpen(stored, plain)) throw NotAuthentic(what);
        return plain;
    }

    /// <summary>Decrypts <paramref name="stored"/> where it lies, between its IV and its MAC.</summary>
    private void OpenInPlace(Span<byte> stored, string what)
    {
        ThrowIfTooShort(stored, what);
        if (!Key.TryOpen(stored, stored.Slice(CryptoKey.IvSize, stored.Length - CryptoKey.Overhead))) throw NotAuthentic(what);
    }

    private static void ThrowIfTooShort(ReadOnlySpan<byte> stored, string what)
    {
        if (stored.Length < CryptoKey.Overhead)
            throw new RepositoryException(ErrorKind.Damaged, $"{what} is damaged: too short to be encrypted data");
    }

    private static RepositoryException NotAuthentic(string what) =>
        new(ErrorKind.Damaged, $"{what} is damaged: its authentication code does not match");

    internal static RepositoryException DoesNotDecompress(string what, Exception e) =>
        new(ErrorKind.Damaged, $"{what} is damaged: it does not decompress ({e.Message})", e);

    /// <summary>
    /// Loads the index files not loaded yet. A process that stays open across backups (the WAL archiver) calls it
    /// before each one: when an index file it loaded is gone, a prune has rewritten the index and may have
    /// removed packs, so everything is loaded anew; trusting the old entries would skip uploading blobs that no
    /// longer exist.
    /// </summary>
    public async Task LoadIndexAsync(CancellationToken ct = default)
    {
        var files = new Dictionary<string, long>(StringComparer.Ordinal);
        await foreach (var (name, size) in Backend.ListAsync(FileKind.Index, ct)) files[name] = size;
        lock (_indexFiles)
        {
            if (!_indexFiles.IsSubsetOf(files.Keys))
            {
                Index.Clear();
                _indexFiles.Clear();
            }
            foreach (var name in _indexFiles) files.Remove(name);
        }
        using var large = new SemaphoreSlim(1);
        await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (file, token) =>
        {
            await LargeBuffers.OneAtATimeAsync(large, file.Value, async () =>
                Index.AddFile(await OpenUnpackedAsync(RepositoryFiles.Index.Named(file.Key), token)), token);
            lock (_indexFiles) _indexFiles.Add(file.Key);
        });
    }

    private readonly HashSet<string> _indexFiles = new(StringComparer.Ordinal);

    /// <summary>Loads, verifies and (if need be) decompresses one blob.</summary>
    public Task<byte[]> LoadBlobAsync(BlobType type, Id id, CancellationToken ct = default)
    {
        if (!Index.TryGet(type, id, out var loc))
            throw new RepositoryException(ErrorKind.Damaged, $"{type.ToString().ToLowerInvariant()} blob {id} is not in the index");
        return LoadBlobAsync(id, loc, ct);
    }

    /// <summary>Loads, verifies and (if need be) decompresses the blob stored at <paramref name="loc"/>.</summary>
    public async Task<byte[]> LoadBlobAsync(Id id, BlobLocation loc, CancellationToken ct = default)
    {
        for (var download = 1; ; download++)
        {
            var stored = GC.AllocateUninitializedArray<byte>((int)loc.Length);
            await LoadStoredBlobAsync(id, loc, stored, ct);
            try
            {
                return OpenBlob(stored, id, loc);
            }
            catch (RepositoryException e) when (e.Kind == ErrorKind.Damaged)
            {
                ThrowUnlessDownloadsLeft(e, download);
            }
        }
    }

    /// <summary>
    /// Loads, verifies and (if need be) decompresses a blob into pooled buffers and gives its plaintext to
    /// <paramref name="read"/>, which must not keep it. check and prune read every tree of a repository this way
    /// (hundreds of KiB each): arrays that size, one per tree, piled up on the large object heap between collections.
    /// </summary>
    public async Task<T> ReadBlobAsync<T>(Id id, BlobLocation loc, Func<ReadOnlySpan<byte>, T> read, CancellationToken ct = default)
    {
        var what = BlobWhere(id, loc);
        var stored = BufferPool.Large.Rent((int)loc.Length);
        var unpacked = loc.IsCompressed ? BufferPool.Large.Rent(UnpackedLength(loc, what)) : null;
        try
        {
            Memory<byte> plain;
            for (var download = 1; ; download++)
            {
                await LoadStoredBlobAsync(id, loc, stored.AsMemory(0, (int)loc.Length), ct);
                try
                {
                    plain = OpenBlobInPlace(stored.AsMemory(0, (int)loc.Length), id, loc, unpacked);
                    break;
                }
                catch (RepositoryException e) when (e.Kind == ErrorKind.Damaged)
                {
                    ThrowUnlessDownloadsLeft(e, download);
                }
            }
            return read(plain.Span);
        }
        finally
        {
            BufferPool.Large.Return(stored);
            if (unpacked != null) BufferPool.Large.Return(unpacked);
        }
    }

    private async Task LoadStoredBlobAsync(Id id, BlobLocation loc, Memory<byte> into, CancellationToken ct)
    {
        try
        {
            await Backend.LoadIntoAsync(new FileHandle(FileKind.Pack, loc.Pack.ToString()), loc.Offset, into, ct);
        }
        catch (Exception e) when (e is FileNotFoundInBackendException or EndOfStreamException)
        {
            throw new RepositoryException(ErrorKind.Damaged, $"{BlobWhere(id, loc)} cannot be read: {e.Message}", e);
        }
    }

    private Packer Packer
    {
        get
        {
            lock (_packerGate) return _packer ??= new Packer(this, PackUploads);
        }
    }

    /// <summary>
    /// Saves a blob into a pack unless the repository, or a pack on its way, already holds it. The blob is stored
    /// and indexed by <see cref="FlushAsync"/>; nothing may refer to it before. <paramref name="owner"/> (of the
    /// plaintext) is let go as soon as the blob is sealed, before any wait for packing: a saver held back by a slow
    /// store then holds one buffer, not two.
    /// </summary>
    /// <returns>The blob's stored length when it was new, else null.</returns>
    public ValueTask<int?> SaveBlobAsync(BlobType type, Id id, ReadOnlyMemory<byte> plaintext, IDisposable? owner = null,
        ContentKind kind = ContentKind.General, CancellationToken ct = default) =>
        Packer.SaveAsync(type, id, plaintext, owner, kind, ct);

    /// <summary>Puts a verified blob read from a pack into a new pack, whatever the index says (prune's repack);
    /// without its stored form (empty), it is sealed anew from the plaintext.</summary>
    internal ValueTask CopyBlobAsync(PackEntry entry, ReadOnlySpan<byte> stored, ReadOnlySpan<byte> plaintext, CancellationToken ct) =>
        Packer.CopyAsync(entry, stored, plaintext, ct);

    /// <summary>Stores every pack of the blobs saved so far, then the index naming them. Only after this returns may
    /// a snapshot refer to those blobs.</summary>
    public async Task FlushAsync(CancellationToken ct = default)
    {
        Packer? packer;
        lock (_packerGate) (packer, _packer) = (_packer, null);
        if (packer == null) return;
        await using (packer) await packer.FlushAsync(ct);
    }

    /// <summary>Drops the blobs saved and not flushed: nothing refers to them (a backup that failed).</summary>
    public async ValueTask DiscardBlobsAsync()
    {
        Packer? packer;
        lock (_packerGate) (packer, _packer) = (_packer, null);
        if (packer != null) await packer.DisposeAsync();
    }

    /// <summary>Opens a blob read as part of a pack; one that fails verification is downloaded again on its own (it
    /// may have been damaged on the way only), <see cref="Downloads"/> times, before it is called damaged.</summary>
    /// <returns>The plaintext, and whether it came from a new download (then the stored bytes given were not good).</returns>
    public async ValueTask<(byte[] Plaintext, bool Reloaded)> OpenPackedBlobAsync(ReadOnlyMemory<byte> stored, Id id, BlobLocation loc,
        CancellationToken ct)
    {
        try
        {
            return (OpenBlob(stored.Span, id, loc), false);
        }
        catch (RepositoryException e) when (e.Kind == ErrorKind.Damaged)
        {
            return (await LoadBlobAsync(id, loc, ct), true);
        }
    }

    /// <summary>
    /// Opens a blob read as part of a pack without allocating, for readers that only pass the plaintext on (restore,
    /// dump): it is decrypted where it lies in <paramref name="stored"/> (overwritten), and a compressed one is
    /// decompressed into <paramref name="scratch"/>, which holds at least its <see cref="BlobLocation.PlaintextLength"/>.
    /// One that fails verification is downloaded again, as by <see cref="OpenPackedBlobAsync(ReadOnlyMemory{byte}, Id, BlobLocation, CancellationToken)"/>.
    /// </summary>
    /// <returns>The plaintext: part of <paramref name="stored"/> or of <paramref name="scratch"/>, or a new download.</returns>
    public async ValueTask<ReadOnlyMemory<byte>> OpenPackedBlobAsync(Memory<byte> stored, Id id, BlobLocation loc, Memory<byte> scratch,
        CancellationToken ct)
    {
        try
        {
            return OpenBlobInPlace(stored, id, loc, scratch);
        }
        catch (RepositoryException e) when (e.Kind == ErrorKind.Damaged)
        {
            return await LoadBlobAsync(id, loc, ct);
        }
    }

    private Memory<byte> OpenBlobInPlace(Memory<byte> stored, Id id, BlobLocation loc, Memory<byte> scratch)
    {
        var what = BlobWhere(id, loc);
        OpenInPlace(stored.Span, what);
        var plain = stored[CryptoKey.IvSize..^CryptoKey.MacSize];
        if (!loc.IsCompressed)
        {
            Unpack(plain.Span, [], id, loc, what);
            return plain;
        }
        var length = UnpackedLength(loc, what);
        if (length > scratch.Length)
            throw DoesNotDecompress(what, new InvalidDataException($"it claims {length} bytes uncompressed, more than its index entry allows"));
        var data = scratch[..length];
        Unpack(plain.Span, data.Span, id, loc, what);
        return data;
    }

    /// <summary>Decrypts a stored blob, checks its MAC, decompresses it and checks that it hashes to its id.</summary>
    public byte[] OpenBlob(ReadOnlySpan<byte> stored, Id id, BlobLocation loc)
    {
        var what = BlobWhere(id, loc);
        var plain = Open(stored, what);
        var unpacked = loc.IsCompressed ? GC.AllocateUninitializedArray<byte>(UnpackedLength(loc, what)) : plain;
        Unpack(plain, loc.IsCompressed ? unpacked : [], id, loc, what);
        return unpacked;
    }

    /// <summary>The length a compressed blob declares, refused before anything is allocated for it when too large.</summary>
    private static int UnpackedLength(BlobLocation loc, string what)
    {
        if (loc.UncompressedLength > Zstd.MaxDecompressedLength)
            throw DoesNotDecompress(what, new InvalidDataException(
                $"it claims {loc.UncompressedLength} bytes uncompressed, more than the {Zstd.MaxDecompressedLength >> 20} MiB allowed"));
        return (int)loc.UncompressedLength;
    }

    /// <summary>Decompresses a decrypted blob into <paramref name="unpacked"/> (its declared length) when it is
    /// compressed, and checks that its plaintext hashes to its id.</summary>
    private static void Unpack(ReadOnlySpan<byte> plain, Span<byte> unpacked, Id id, BlobLocation loc, string what)
    {
        var data = plain;
        if (loc.IsCompressed)
        {
            int n;
            try
            {
                n = Zstd.Decompress(plain, unpacked);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw DoesNotDecompress(what, e);
            }
            if (n != unpacked.Length) throw DoesNotDecompress(what, new InvalidDataException($"decompressed {n} bytes, expected {unpacked.Length}"));
            data = unpacked;
        }
        if (Id.Hash(data) != id) throw new RepositoryException(ErrorKind.Damaged, $"{what} is damaged: its content does not hash to its id");
    }

    private static string BlobWhere(Id id, BlobLocation loc) => $"blob {id.Short} in data/{loc.Pack.ToString()[..2]}/{loc.Pack}";

    public async Task<Snapshot> LoadSnapshotAsync(Id id, CancellationToken ct = default)
    {
        var snapshot = await LoadFileAsync(RepositoryFiles.Snapshot, id.ToString(), ct);
        snapshot.Id = id;
        return snapshot;
    }

    /// <summary>Every snapshot, oldest first; a snapshot file that cannot be read fails the call (prune must know
    /// every snapshot before it deletes anything).</summary>
    public Task<List<Snapshot>> LoadSnapshotsAsync(CancellationToken ct = default) => LoadSnapshotsAsync(null, ct);

    /// <summary>
    /// Every snapshot, oldest first. With <paramref name="onDamaged"/>, a damaged snapshot file is reported there
    /// and left out, as restic's `snapshots` does: one garbage file must not hide all the others.
    /// </summary>
    public async Task<List<Snapshot>> LoadSnapshotsAsync(Action<RepositoryException>? onDamaged, CancellationToken ct = default)
    {
        var ids = new List<Id>();
        await foreach (var (name, _) in Backend.ListAsync(FileKind.Snapshot, ct))
            if (Id.TryParse(name, out var id)) ids.Add(id);
        var result = new Snapshot?[ids.Count];
        var reporting = new Lock();
        await Parallel.ForEachAsync(Enumerable.Range(0, ids.Count), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct },
            async (i, token) =>
            {
                try
                {
                    result[i] = await LoadSnapshotAsync(ids[i], token);
                }
                catch (RepositoryException e) when (onDamaged != null && e.Kind == ErrorKind.Damaged)
                {
                    lock (reporting) onDamaged(e);
                }
            });
        return result.OfType<Snapshot>().OrderBy(s => s.Time).ToList();
    }

    public Task<Id> SaveSnapshotAsync(Snapshot snapshot, CancellationToken ct = default) =>
        SaveFileAsync(RepositoryFiles.Snapshot, snapshot, ct);

    public async ValueTask DisposeAsync()
    {
        await DiscardBlobsAsync();
        await Backend.DisposeAsync();
    }
}
