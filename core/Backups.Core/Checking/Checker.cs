using Backups.Core.Backends;
using Backups.Core.Buffers;
using Backups.Core.Json;
using Backups.Core.Locks;
using Backups.Core.Repositories;
using Backups.Core.Snapshots;
using Backups.Core.Trees;
using Backups.Core.Wal;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Checking;

/// <summary>
/// restic's <c>check</c>: the index against the packs, the snapshots and every tree they reach against the index,
/// stale locks, and (as selected) every byte of some packs. Damage is reported, never thrown: only a store that
/// cannot be reached, or cancellation, ends a check early. The caller holds a (non-exclusive) lock.
/// </summary>
public sealed class Checker
{
    private readonly Repo _repo;
    private readonly CheckOptions _options;
    private readonly CheckReport _report = new();
    private readonly CheckIndex _index = new();
    private readonly Dictionary<Id, long> _packSizes = [];

    private Checker(Repo repo, CheckOptions options)
    {
        _repo = repo;
        _options = options;
    }

    public static async Task<CheckReport> CheckAsync(Repo repo, CheckOptions? options = null, CancellationToken ct = default)
    {
        var checker = new Checker(repo, options ?? new CheckOptions());
        await checker.RunAsync(ct);
        return checker._report;
    }

    private async Task RunAsync(CancellationToken ct)
    {
        await CheckLocksAsync(ct);
        await LoadIndexAsync(ct);
        await CheckPacksAsync(ct);
        if (_options.Snapshots) await CheckSnapshotsAsync(ct);
        await ReadPacksAsync(ct);
    }

    private ParallelOptions Bounded(CancellationToken ct) => new() { MaxDegreeOfParallelism = _options.Parallelism, CancellationToken = ct };

    private async Task<List<string>> ListAsync(FileKind kind, CancellationToken ct)
    {
        var names = new List<string>();
        await foreach (var (name, _) in _repo.Backend.ListAsync(kind, ct)) names.Add(name);
        return names;
    }

    private async Task CheckLocksAsync(CancellationToken ct)
    {
        await foreach (var (lockFile, id) in RepositoryLock.ListAsync(_repo, ct))
            if (RepositoryLock.IsStale(lockFile))
                _report.Warning($"locks/{id}", $"locks/{id} is stale: held by PID {lockFile.Pid} on {lockFile.Hostname} since {lockFile.Time:u} (`unlock` removes it)");
    }

    private async Task LoadIndexAsync(CancellationToken ct)
    {
        var files = new List<(string Name, long Size)>();
        await foreach (var file in _repo.Backend.ListAsync(FileKind.Index, ct)) files.Add(file);
        using var large = new SemaphoreSlim(1);
        // Each file joins the compact index as soon as it is loaded, so that at most a few files live at once.
        await Parallel.ForEachAsync(files, Bounded(ct), async (item, token) =>
        {
            var file = new FileHandle(FileKind.Index, item.Name);
            try
            {
                await LargeBuffers.OneAtATimeAsync(large, item.Size, async () =>
                {
                    var unpacked = await _repo.OpenUnpackedAsync(file, token);
                    // Read under the lock, straight into the index: no file's entries are ever held apart.
                    lock (_index)
                        foreach (var type in _index.Add(unpacked).Distinct())
                            _report.Error(file.ToString(), null, $"{file} is damaged: unknown blob type '{type}'");
                }, token);
            }
            catch (Exception e) when (e is RepositoryException or FileNotFoundInBackendException)
            {
                _report.Error(file.ToString(), null, Message(file.ToString(), e));
            }
        });
        _index.Seal();
        _report.IndexFiles = files.Count;
        _report.Blobs = _index.Count;
    }

    /// <summary>A file that could not be loaded: the engine's own message names it already.</summary>
    private static string Message(string file, Exception e) => e is RepositoryException ? e.Message : $"{file} cannot be read: {e.Message}";

    /// <summary>Every indexed pack exists with the size its index entries imply; every stored pack is indexed.</summary>
    private async Task CheckPacksAsync(CancellationToken ct)
    {
        await foreach (var (name, size) in _repo.Backend.ListAsync(FileKind.Pack, ct))
        {
            if (Id.TryParse(name, out var id)) _packSizes[id] = size;
            else _report.Warning($"data/{name}", $"data/{name} is not a pack: its name is not an id");
        }
        _report.Packs = _packSizes.Count;
        foreach (var pack in _index.Packs)
        {
            var name = FileLayout.RelativePath(new FileHandle(FileKind.Pack, pack.Id.ToString()));
            var indexFile = $"index/{_index.FileName(pack.IndexFile)}";
            if (!_packSizes.TryGetValue(pack.Id, out var size))
            {
                _report.Error(name, null, $"{name} is missing: {indexFile} lists {pack.Count} blobs in it");
                continue;
            }
            var blobs = _index.BlobsOf(pack);
            var expected = CheckIndex.ExpectedSize(blobs);
            if (size != expected)
                _report.Error(name, null, $"{name} has {size} bytes, but {indexFile} implies {expected}");
            CheckPlacement(name, indexFile, blobs);
        }
        foreach (var id in _packSizes.Keys)
            if (!_index.TryGetPack(id, out _))
            {
                var name = FileLayout.RelativePath(new FileHandle(FileKind.Pack, id.ToString()));
                _report.Warning(name, $"{name} is in no index: its blobs are unused (prune removes it)");
            }
    }

    /// <summary>Blobs lie back to back from offset 0 and end where the header begins.</summary>
    private void CheckPlacement(string name, string indexFile, ReadOnlySpan<IndexedBlob> blobs)
    {
        long blobsEnd = 0;
        foreach (var b in blobs) blobsEnd += b.Length;
        long position = 0;
        foreach (var b in blobs.ToArray().OrderBy(b => b.Offset))
        {
            if (b.End > blobsEnd)
                _report.Error(name, b.Id, $"{PackCheck.Kind(b.Type)} blob {b.Id}: {indexFile} places it at {b.Offset}+{b.Length}, past the end of the blobs in {name} ({blobsEnd})");
            else if (b.Offset != position)
                _report.Error(name, b.Id, $"{PackCheck.Kind(b.Type)} blob {b.Id}: {indexFile} places it at {b.Offset} in {name}, where the previous blob ends at {position}");
            else position = b.End;
        }
    }

    private async Task CheckSnapshotsAsync(CancellationToken ct)
    {
        var names = await ListAsync(FileKind.Snapshot, ct);
        var roots = new List<(Id Tree, string Where)>();
        var snapshots = new List<Snapshot>();
        await Parallel.ForEachAsync(names, Bounded(ct), async (name, token) =>
        {
            var file = $"snapshots/{name}";
            if (!Id.TryParse(name, out var id))
            {
                _report.Warning(file, $"{file} is not a snapshot: its name is not an id");
                return;
            }
            try
            {
                var snapshot = await _repo.LoadSnapshotAsync(id, token);
                lock (roots)
                {
                    roots.Add((snapshot.Tree, $"snapshot {id.Short}"));
                    snapshots.Add(snapshot);
                }
            }
            catch (Exception e) when (e is RepositoryException or FileNotFoundInBackendException)
            {
                _report.Error(file, null, Message(file, e));
            }
        });
        _report.Snapshots = roots.Count;
        var walTrees = snapshots.Where(PgSnapshots.IsWal).Select(s => s.Tree).ToDictionary(id => id, _ => (Tree?)null);
        await WalkTreesAsync(roots, walTrees, ct);
        await CheckWalChainsAsync(snapshots, walTrees, ct);
    }

    /// <summary>Each cluster's WAL reaches from its oldest base backup to its newest segment (see <see cref="WalChain"/>).
    /// A WAL tree that did not load is damage reported already; its source's chain is not judged on the rest.</summary>
    private async Task CheckWalChainsAsync(List<Snapshot> snapshots, Dictionary<Id, Tree?> walTrees, CancellationToken ct)
    {
        foreach (var source in snapshots.Where(s => PgSnapshots.IsWal(s) || PgSnapshots.IsBase(s)).Select(SnapshotSource.Of).OfType<string>().Distinct().Order(StringComparer.Ordinal))
        {
            var archive = new WalArchive();
            var wal = snapshots.Where(s => SnapshotSource.Of(s) == source && PgSnapshots.IsWal(s)).OrderBy(s => s.Time).ToList();
            if (wal.Any(s => walTrees[s.Tree] == null)) continue;
            try
            {
                foreach (var s in wal) archive.Add(walTrees[s.Tree]!, s);
                if (await WalChain.FirstGapAsync(ReadWalAsync, source, snapshots, archive, ct) is { } gap) _report.Error(null, null, gap);
            }
            catch (RepositoryException e)
            {
                _report.Error(null, null, e.Message);
            }
        }
    }

    /// <summary>An archived WAL file's bytes (a timeline's history), through this check's own index.</summary>
    private Task<byte[]> ReadWalAsync(ArchivedWal file, CancellationToken ct) =>
        WalArchive.ReadAsync(file, (id, token) => _index.TryGet(BlobType.Data, id, out var blob)
            ? _repo.LoadBlobAsync(id, _index.Location(blob), token)
            : throw new RepositoryException(ErrorKind.Damaged, $"data blob {id} of WAL file {file.Name} is not in the index"), ct);

    /// <summary>Level by level, each tree once: it is indexed, loads, parses, and what it names is indexed. The trees
    /// named in <paramref name="keep"/> are kept there.</summary>
    private async Task WalkTreesAsync(List<(Id Tree, string Where)> level, Dictionary<Id, Tree?> keep, CancellationToken ct)
    {
        var seen = new HashSet<Id>();
        var missingData = new HashSet<Id>();
        while (level.Count > 0)
        {
            level = level.Where(t => seen.Add(t.Tree)).ToList();
            var next = new List<(Id, string)>();
            await Parallel.ForEachAsync(level, Bounded(ct), async (item, token) =>
            {
                var tree = await LoadTreeAsync(item.Tree, item.Where, token);
                if (tree == null) return;
                lock (keep) if (keep.ContainsKey(item.Tree)) keep[item.Tree] = tree;
                foreach (var node in tree.Nodes)
                {
                    var where = item.Where + "/" + node.Name;
                    if (node.Type == Node.Dir)
                    {
                        if (node.Subtree is { } subtree) lock (next) next.Add((subtree, where));
                        else _report.Error(null, item.Tree, $"tree {item.Tree} is damaged: directory {where} has no subtree");
                    }
                    else if (node.Type == Node.File)
                    {
                        foreach (var blob in node.Content ?? [])
                            if (!_index.TryGet(BlobType.Data, blob, out _))
                                lock (missingData)
                                    if (missingData.Add(blob))
                                        _report.Error(null, blob, $"data blob {blob} of {where} is not in the index");
                    }
                }
            });
            _report.Trees += level.Count;
            level = next;
        }
    }

    private async Task<Tree?> LoadTreeAsync(Id id, string where, CancellationToken ct)
    {
        if (!_index.TryGet(BlobType.Tree, id, out var blob))
        {
            _report.Error(null, id, $"tree {id} at {where} is not in the index");
            return null;
        }
        var pack = FileLayout.RelativePath(new FileHandle(FileKind.Pack, _index.Packs[blob.Pack].Id.ToString()));
        try
        {
            return await _repo.ReadBlobAsync(id, _index.Location(blob), plaintext => TreeJson.Parse(plaintext, id), ct);
        }
        catch (RepositoryException e)
        {
            _report.Error(pack, id, $"tree {id} at {where}: {e.Message}");
        }
        return null;
    }

    private async Task ReadPacksAsync(CancellationToken ct)
    {
        var present = _index.Packs.Where(p => _packSizes.ContainsKey(p.Id)).Select(p => p.Id).Order().ToList();
        var selected = _options.ReadData.Select(present);
        _report.ReadSelection = _options.ReadData.Description;
        _report.PacksSelected = selected.Count;
        _options.Progress?.Start(selected.Count, selected.Sum(id => _packSizes[id]));
        var reader = new PackCheck(_repo, _index, _report, _options.ReadWindow);
        int read = 0, left = 0;
        long bytes = 0;
        await Parallel.ForEachAsync(selected, Bounded(ct), async (id, token) =>
        {
            if (_options.ReadDeadline is { } deadline && _options.Clock.GetUtcNow() >= deadline)
            {
                Interlocked.Increment(ref left);
                return;
            }
            _index.TryGetPack(id, out var pack);
            var packBytes = await reader.ReadAsync(pack, _packSizes[id], token);
            Interlocked.Add(ref bytes, packBytes);
            Interlocked.Increment(ref read);
            _options.Progress?.Read(packBytes);
        });
        _report.PacksRead = read;
        _report.PacksLeft = left;
        _report.BytesRead = bytes;
    }
}
