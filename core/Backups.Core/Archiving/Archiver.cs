using Backups.Core.Json;
using Backups.Core.Packs;
using Backups.Core.Trees;

namespace Backups.Core.Archiving;

/// <summary>
/// Turns files and directories into trees. Walking is sequential (file contents are queued in order on the
/// content saver); a directory's tree is built once all of its children are saved, without stalling the walk.
/// Every component of a target's absolute path becomes its own tree level, as in restic.
/// </summary>
public sealed class Archiver(Packer packer, ContentSaver content, IReadOnlyList<ExcludePattern> excludes, SourceStats stats)
{
    /// <summary>Saves the targets and returns the root tree's id.</summary>
    public async Task<Id> SaveAsync(IReadOnlyList<string> absolutePaths, CancellationToken ct)
    {
        // Merge the targets into one virtual tree of path components.
        var root = new VirtualDir("/");
        foreach (var path in absolutePaths)
        {
            var dir = root;
            var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
            for (var i = 0; i < parts.Length - 1; i++)
                dir = dir.Child(parts[i], "/" + string.Join('/', parts[..(i + 1)]));
            dir.Targets[parts[^1]] = path;
        }
        return await (await SaveVirtualAsync(root, ct));
    }

    private sealed class VirtualDir(string path)
    {
        public string Path { get; } = path;
        public Dictionary<string, VirtualDir> Dirs { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, string> Targets { get; } = new(StringComparer.Ordinal);
        public VirtualDir Child(string name, string path) =>
            Dirs.TryGetValue(name, out var d) ? d : Dirs[name] = new VirtualDir(path);
    }

    private async Task<Task<Id>> SaveVirtualAsync(VirtualDir dir, CancellationToken ct)
    {
        var children = new List<Task<Node>>();
        foreach (var (name, target) in dir.Targets)
            if (await SaveEntryAsync(name, target, ct) is { } node) children.Add(node);
        foreach (var (name, sub) in dir.Dirs)
        {
            if (dir.Targets.ContainsKey(name)) continue; // the whole directory is a target already
            var subtree = await SaveVirtualAsync(sub, ct);
            var node = NodeFor(name, sub.Path, FileStat.Lstat(sub.Path));
            children.Add(WithSubtree(node, subtree));
        }
        return SaveTreeAsync(children, ct);
    }

    private static async Task<Node> WithSubtree(Node node, Task<Id> subtree)
    {
        node.Subtree = await subtree;
        return node;
    }

    private async Task<Id> SaveTreeAsync(List<Task<Node>> children, CancellationToken ct)
    {
        var tree = new Tree { Nodes = [.. await Task.WhenAll(children)] };
        tree.Sort();
        return await SaveTreeAsync(packer, tree, stats, ct);
    }

    /// <summary>Stores a tree blob (unless known) and counts it for its source.</summary>
    public static async Task<Id> SaveTreeAsync(Packer packer, Tree tree, SourceStats stats, CancellationToken ct)
    {
        var json = TreeJson.Serialize(tree);
        var id = Id.Hash(json);
        if (packer.TrySeal(BlobType.Tree, id, json) is { } blob)
        {
            stats.Added(blob, json.Length);
            await packer.AddAsync(blob, ct);
        }
        return id;
    }

    /// <summary>Queues one file system entry; null when it is excluded or unreadable.</summary>
    private async Task<Task<Node>?> SaveEntryAsync(string name, string path, CancellationToken ct)
    {
        if (excludes.Any(e => e.Matches(path))) return null;
        FileStat stat;
        try
        {
            stat = FileStat.Lstat(path);
        }
        catch (IOException e)
        {
            stats.Error(e.Message);
            return null;
        }
        var node = NodeFor(name, path, stat);
        if (stat.IsDirectory)
        {
            stats.Directories++;
            var children = new List<Task<Node>>();
            try
            {
                foreach (var entry in Directory.EnumerateFileSystemEntries(path).Order(StringComparer.Ordinal))
                    if (await SaveEntryAsync(System.IO.Path.GetFileName(entry), entry, ct) is { } child) children.Add(child);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                stats.Error($"cannot read directory {path}: {e.Message}");
                node.Error = e.Message;
            }
            return WithSubtree(node, SaveTreeAsync(children, ct));
        }
        if (!stat.IsRegular) return Task.FromResult(node);

        stats.Files++;
        try
        {
            await using var file = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.ReadWrite,
                BufferSize = 0, Options = FileOptions.SequentialScan | FileOptions.Asynchronous,
            });
            var (contentTask, size) = await content.QueueAsync(file, stats, ct);
            // The size is what was read: restic's check insists that it equals the sum of the blobs.
            node.Size = (ulong)size;
            return WithContent(node, contentTask);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stats.Error($"cannot read {path}: {e.Message}");
            return null;
        }
    }

    private static async Task<Node> WithContent(Node node, Task<Id[]> content)
    {
        node.Content = [.. await content];
        return node;
    }

    public static Node NodeFor(string name, string path, FileStat s)
    {
        var offset = (int)TimeZoneInfo.Local.BaseUtcOffset.TotalMinutes;
        var node = new Node
        {
            Name = name,
            Type = s.NodeType,
            Mode = s.GoMode,
            ModTime = new Timestamp(s.MTimeSec, (int)s.MTimeNsec, offset),
            AccessTime = new Timestamp(s.ATimeSec, (int)s.ATimeNsec, offset),
            ChangeTime = new Timestamp(s.CTimeSec, (int)s.CTimeNsec, offset),
            Uid = s.Uid,
            Gid = s.Gid,
            User = UnixNames.User(s.Uid),
            Group = UnixNames.Group(s.Gid),
            Inode = s.Inode,
            DeviceId = s.Device,
            Links = s.Links,
        };
        switch (node.Type)
        {
            case Node.File:
                node.Content = [];
                break;
            case Node.Symlink:
                node.LinkTarget = new FileInfo(path).LinkTarget;
                break;
            case Node.Dev or Node.CharDev:
                node.Device = s.RDevice;
                break;
        }
        return node;
    }
}
