using System.Security.Cryptography;
using Backups.Core.Repositories;
using Backups.Core.Snapshots;
using Backups.Core.Trees;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Inspecting;

/// <summary>
/// restic 0.14's stats: walks the chosen snapshots and counts by <see cref="StatsMode"/> with restic's rules
/// (the same numbers for the same repository). The index must be loaded.
/// </summary>
public sealed class StatsCounter(Repo repo, StatsMode mode)
{
    private readonly HashSet<Id> _filesByContent = [];
    private readonly Dictionary<string, HashSet<Id>> _blobsByPath = new(StringComparer.Ordinal);
    private readonly HashSet<(Id, BlobType)> _blobs = [];
    private ulong _size, _files, _blobCount;
    private int _snapshots;

    public async Task AddAsync(Snapshot snapshot, CancellationToken ct)
    {
        _snapshots++;
        if (mode == StatsMode.RawData)
        {
            await CollectBlobsAsync(snapshot.Tree, ct);
            return;
        }
        // As restic: each snapshot gets a fresh walker (and, for restore-size, a fresh set of hard links).
        var inodes = new HashSet<ulong>();
        await new RepositoryWalker(repo).WalkAsync(snapshot.Tree, (path, node, tree) => Visit(path, node, tree, inodes), ct);
    }

    public RepositoryStats Result()
    {
        if (mode != StatsMode.RawData) return new RepositoryStats(_size, _files, _blobCount, _snapshots);
        ulong size = 0;
        foreach (var (id, type) in _blobs)
            size += repo.Index.TryGet(type, id, out var loc)
                ? loc.Length
                : throw new RepositoryException(ErrorKind.Damaged, $"{type.ToString().ToLowerInvariant()} blob {id} is not in the index");
        return new RepositoryStats(size, 0, (ulong)_blobs.Count, _snapshots);
    }

    private Visit Visit(string path, Node node, Id tree, HashSet<ulong> inodes)
    {
        if (mode == StatsMode.RestoreSize)
        {
            _files++;
            // A hard link restores no more bytes than its first name.
            if (node.Inode == 0 || inodes.Add(node.Inode)) _size += node.Size;
            return Inspecting.Visit.Continue;
        }
        if (!_filesByContent.Add(ContentId(node))) return Inspecting.Visit.Done;
        if (mode == StatsMode.FilesByContents)
        {
            _size += node.Size;
            _files++;
            return Inspecting.Visit.Done;
        }
        foreach (var blob in node.Content ?? [])
        {
            if (!_blobsByPath.TryGetValue(path, out var seen))
            {
                _blobsByPath[path] = seen = [];
                _files++;
            }
            if (!seen.Add(blob)) continue;
            _size += repo.Index.TryGet(BlobType.Data, blob, out var loc)
                ? (ulong)loc.PlaintextLength
                : throw new RepositoryException(ErrorKind.Damaged, $"data blob {blob} of {path} (tree {tree}) is not in the index");
            _blobCount++;
        }
        return Inspecting.Visit.Done;
    }

    /// <summary>restic's file identity for files-by-contents: the hash of its content ids in order (every node
    /// without content, directories included, shares one).</summary>
    private static Id ContentId(Node node)
    {
        var content = node.Content ?? [];
        var bytes = new byte[content.Count * Id.Size];
        for (var i = 0; i < content.Count; i++) content[i].WriteTo(bytes.AsSpan(i * Id.Size));
        return new Id(SHA256.HashData(bytes));
    }

    private async Task CollectBlobsAsync(Id root, CancellationToken ct)
    {
        if (!_blobs.Add((root, BlobType.Tree))) return;
        foreach (var node in (await TreeJson.LoadAsync(repo, root, ct)).Nodes)
        {
            if (node.Type == Node.File)
                foreach (var blob in node.Content ?? []) _blobs.Add((blob, BlobType.Data));
            if (node.Subtree is { } sub) await CollectBlobsAsync(sub, ct);
        }
    }
}
