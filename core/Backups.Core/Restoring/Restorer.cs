using Backups.Core.FileSystem;
using Backups.Core.Repositories;
using Backups.Core.Trees;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Restoring;

/// <summary>
/// Restores a tree into a directory: contents, symlinks, FIFOs, devices (as root), hard links, modes, owners (as
/// root) and nanosecond times. Every entry is made relative to its opened parent directory and never through a
/// symlink, and whatever already has an entry's name is replaced rather than written through, so neither the
/// snapshot nor the target's previous contents can direct a write outside the target. The walk makes entries;
/// file contents follow in rounds built around packs (<see cref="ContentRound"/>). A file's metadata is set once
/// its content is written, a directory's once its entries are made (writing into a file changes no directory).
/// </summary>
public sealed class Restorer(Repo repo, RestoreOptions? options = null)
{
    // Hard-link groups whose first file stays open until its other names are made; past this many, further
    // groups are restored as copies rather than holding ever more descriptors.
    private const int MaxOpenLinkGroups = 1000;
    private readonly RestoreOptions _options = options ?? new RestoreOptions();
    private readonly Dictionary<(ulong Inode, ulong Device), LinkGroup> _links = [];
    // Rounds fetched at once while the walk makes the next one's files: a round's last reads alone leave the cores
    // idle unless the next round's reads start beside them. Reads of all rounds share one set of slots (PackReads), so
    // the windows in memory do not grow with it; each round keeps its files open (FilesPerRound descriptors).
    private const int RoundsFetching = 2;
    private readonly Queue<Task> _fetching = new();
    private ContentRound? _round;
    private PackReads? _reads;
    private long _bytes;

    public long Files { get; private set; }
    public long Bytes => Interlocked.Read(ref _bytes);

    public async Task RestoreAsync(Id tree, string target, CancellationToken ct = default)
    {
        var full = Path.GetFullPath(target);
        if (File.Exists(full))
            throw new RepositoryException(ErrorKind.InvalidArgument, $"cannot restore into {target}: it is a file, not a directory");
        Directory.CreateDirectory(full);
        using var root = new LazyDirectory(() => DirectoryHandle.Open(full));
        using var reads = _reads = new PackReads(_options.Packs ?? repo.Backend.Connections ?? RestoreOptions.LocalPacks);
        _round = new ContentRound(repo, _options, reads);
        try
        {
            await RestoreTreeAsync(tree, root, "", ct);
            await FetchRoundAsync(ct);
            while (_fetching.Count > 0) await _fetching.Dequeue();
        }
        finally
        {
            // Nothing may touch the files after the restore returned, even when it failed.
            while (_fetching.Count > 0)
                try { await _fetching.Dequeue(); } catch { /* the first failure is the one reported */ }
            foreach (var group in _links.Values) group.File.Dispose();
            _links.Clear();
        }
    }

    /// <param name="parent">Made on first use: a directory that is only looked into (an include may match below it)
    /// exists afterwards only if something inside it was restored, as in restic.</param>
    private async Task RestoreTreeAsync(Id treeId, LazyDirectory parent, string path, CancellationToken ct)
    {
        var tree = await TreeJson.LoadAsync(repo, treeId, ct);
        foreach (var node in tree.Nodes)
        {
            ct.ThrowIfCancellationRequested();
            var nodePath = $"{path}/{node.Name}";
            var (selected, descend) = _options.Select(nodePath, node.Type == Node.Dir);
            if (!selected && !descend) continue;
            var (owner, group) = Ownership(node);
            if (node.Type == Node.Dir)
            {
                using var sub = new LazyDirectory(() => parent.Handle.CreateDirectory(node.Name));
                if (selected) _ = sub.Handle;
                if (descend && node.Subtree is { } subtree) await RestoreTreeAsync(subtree, sub, nodePath, ct);
                if (selected) sub.Handle.SetMetadata(owner, group, (uint)node.Permissions, Times(node));
                continue;
            }
            var dir = parent.Handle;
            switch (node.Type)
            {
                case Node.File:
                    await RestoreFileAsync(dir, node, ct);
                    Files++;
                    break;
                case Node.Symlink:
                    dir.CreateSymlink(node.Name, node.LinkTarget ?? "");
                    dir.SetMetadata(node.Name, owner, group, null, Times(node));
                    break;
                case Node.Fifo:
                    dir.CreateNode(node.Name, FileStat.SIfIfo, 0);
                    dir.SetMetadata(node.Name, owner, group, (uint)node.Permissions, Times(node));
                    break;
                case Node.Dev or Node.CharDev when UnixNames.IsRoot:
                    dir.CreateNode(node.Name, node.Type == Node.Dev ? FileStat.SIfBlk : FileStat.SIfChr, node.Device);
                    dir.SetMetadata(node.Name, owner, group, (uint)node.Permissions, Times(node));
                    break;
                default:
                    continue; // sockets are not recreated (as in restic), nor devices without the right to make them
            }
        }
    }

    private async Task RestoreFileAsync(DirectoryHandle dir, Node node, CancellationToken ct)
    {
        var linked = node.Links > 1;
        if (linked && _links.TryGetValue((node.Inode, node.DeviceId), out var first))
        {
            dir.Link(first.File.Handle, node.Name);
            if (--first.Remaining == 0)
            {
                first.File.Dispose();
                _links.Remove((node.Inode, node.DeviceId));
            }
            return;
        }
        var display = dir.PathOf(node.Name);
        var content = node.Content ?? [];
        var (locations, length) = ContentRound.Locate(repo, content, display);
        var file = new RestoringFile(dir.CreateFile(node.Name), node, display, content, locations, length);
        if (linked && _links.Count < MaxOpenLinkGroups)
        {
            file.Hold();
            _links[(node.Inode, node.DeviceId)] = new LinkGroup(file, node.Links - 1);
        }
        _round!.Add(file);
        if (_round.IsFull) await FetchRoundAsync(ct);
    }

    /// <summary>Starts fetching the current round once fewer than <see cref="RoundsFetching"/> are.</summary>
    private async Task FetchRoundAsync(CancellationToken ct)
    {
        var round = _round!;
        _round = new ContentRound(repo, _options, _reads!);
        while (_fetching.Count >= RoundsFetching) await _fetching.Dequeue();
        _fetching.Enqueue(FetchAsync(round, ct));
    }

    private async Task FetchAsync(ContentRound round, CancellationToken ct)
    {
        var bytes = await round.FetchAsync(file =>
        {
            var (owner, group) = Ownership(file.Node);
            file.Finish(owner, group, Times(file.Node));
        }, ct);
        Interlocked.Add(ref _bytes, bytes);
    }

    private sealed class LazyDirectory(Func<DirectoryHandle> open) : IDisposable
    {
        private DirectoryHandle? _handle;

        public DirectoryHandle Handle => _handle ??= open();

        public void Dispose() => _handle?.Dispose();
    }

    private sealed class LinkGroup(RestoringFile file, ulong remaining)
    {
        public RestoringFile File { get; } = file;
        public ulong Remaining { get; set; } = remaining;
    }

    private static (uint? Owner, uint? Group) Ownership(Node node) => UnixNames.IsRoot ? (node.Uid, node.Gid) : (null, null);

    private static FileTimes Times(Node node) =>
        new(node.AccessTime.UnixSeconds, node.AccessTime.Nanoseconds, node.ModTime.UnixSeconds, node.ModTime.Nanoseconds);
}
