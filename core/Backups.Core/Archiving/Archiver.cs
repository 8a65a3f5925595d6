using Backups.Core.FileSystem;
using Backups.Core.Filtering;
using Backups.Core.Inspecting;
using Backups.Core.Json;
using Backups.Core.Repositories;
using Backups.Core.Trees;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Archiving;

/// <summary>
/// Turns files and directories into trees. Walking is sequential (file contents are queued in order on the
/// content saver); a directory's tree is built once all of its children are saved, without stalling the walk.
/// Targets are laid out as restic lays them out (<see cref="BackupTargets"/>). Entries are read relative to their
/// opened directory and never through a symlink: what is read is the entry that was listed and stat'ed, and one
/// that vanishes or changes type meanwhile is a warning (the snapshot is saved without it), not a failure.
/// With a parent snapshot, a file that <see cref="ChangeDetection"/> finds unchanged takes the parent's content
/// list and is not opened at all, and a directory whose nodes all equal the parent's nodes there (restic's
/// Node.Equals: a subdirectory's own metadata and subtree id included) takes the parent's tree id without
/// serialising and hashing the tree again.
/// </summary>
public sealed class Archiver(Repo repo, ContentSaver content, Exclusions exclusions,
    ChangeDetection changes, SourceStats stats)
{
    /// <summary>Saves the targets (absolute or relative paths) and returns the root tree's id.</summary>
    /// <param name="parent">The root tree of the parent snapshot, if any.</param>
    public async Task<Id> SaveAsync(IReadOnlyList<string> targets, Id? parent, CancellationToken ct) =>
        await await SaveLevelAsync(BackupTargets.Layout(targets), await PreviousAsync(parent, ct), ct);

    private async Task<Task<Id>> SaveLevelAsync(BackupTargets.Level level, Previous previous, CancellationToken ct)
    {
        var children = new List<Task<Node>>();
        foreach (var (name, child) in level.Children)
        {
            var before = previous.Nodes.GetValueOrDefault(name);
            if (child.Target is { } target)
            {
                using var parent = DirectoryHandle.Open(Path.GetDirectoryName(target) ?? "/");
                if (await SaveEntryAsync(parent, Path.GetFileName(target), name, target, before, ct) is { } node) children.Add(node);
                continue;
            }
            var subtree = await SaveLevelAsync(child, await PreviousAsync(before?.Subtree, ct), ct);
            // A directory on the way to a target takes the metadata of what the path leads to, as in restic.
            children.Add(CompleteDirectory(NodeFor(name, FileStat.Stat(child.MetadataPath!)), before, subtree));
        }
        return SaveTreeAsync(children, previous, ct);
    }

    /// <summary>A directory's node once its tree is saved, counted as restic counts it: new, unmodified (equal to the
    /// parent snapshot's node, subtree id included) or changed.</summary>
    private async Task<Node> CompleteDirectory(Node node, Node? before, Task<Id> subtree)
    {
        node.Subtree = await subtree;
        stats.Directory(before == null ? SourceStats.Change.New : NodeEquality.Equal(before, node) ? SourceStats.Change.Unmodified : SourceStats.Change.Changed);
        return node;
    }

    private async Task<Id> SaveTreeAsync(List<Task<Node>> children, Previous previous, CancellationToken ct)
    {
        var tree = new Tree { Nodes = [.. await Task.WhenAll(children)] };
        if (previous.Tree is { } same && tree.Nodes.Count == previous.Nodes.Count
            && tree.Nodes.All(n => previous.Nodes.TryGetValue(n.Name, out var before) && NodeEquality.Equal(before, n)))
            return same;
        tree.Sort();
        return await stats.SaveTreeAsync(repo, tree, ct);
    }

    /// <summary>A parent snapshot's directory: its tree id (null when there is none, or it could not be read) and its
    /// nodes by name.</summary>
    private sealed record Previous(Id? Tree, IReadOnlyDictionary<string, Node> Nodes)
    {
        public static readonly Previous Nothing = new(null, new Dictionary<string, Node>());
    }

    /// <summary>The parent snapshot's directory; nothing when there is no parent, or its tree cannot be read (then
    /// everything is read again: the parent only saves work).</summary>
    private async Task<Previous> PreviousAsync(Id? tree, CancellationToken ct)
    {
        if (tree is not { } id) return Previous.Nothing;
        try
        {
            return new Previous(id, (await TreeJson.LoadAsync(repo, id, ct)).Nodes.ToDictionary(n => n.Name, StringComparer.Ordinal));
        }
        catch (RepositoryException e) when (e.Kind == ErrorKind.Damaged || e.Kind == ErrorKind.NotFound)
        {
            return Previous.Nothing;
        }
    }

    /// <summary>Queues one entry of an opened directory; null when it is excluded, unreadable or gone.</summary>
    private async Task<Task<Node>?> SaveEntryAsync(DirectoryHandle dir, string entry, string name, string path, Node? before, CancellationToken ct)
    {
        if (exclusions.ExcludesByName(path)) return null;
        FileStat stat;
        try
        {
            stat = dir.Stat(entry);
        }
        catch (IOException e)
        {
            stats.Error(e.Message);
            return null;
        }
        if (exclusions.ExcludesByStat(path, stat)) return null;
        var node = NodeFor(name, stat);
        if (stat.IsDirectory) return await SaveDirectoryAsync(dir, entry, path, stat, node, before, ct);
        if (stat.IsSymlink)
        {
            try
            {
                node.LinkTarget = dir.ReadLink(entry);
            }
            catch (IOException e)
            {
                stats.Error(e.Message);
                return null;
            }
        }
        if (!stat.IsRegular) return Task.FromResult(node);

        stats.Files++;
        if (changes.Unchanged(stat, before) && before!.Content!.All(id => repo.Index.Has(BlobType.Data, id)))
        {
            node.Content = before.Content;
            node.Size = stat.Size;
            stats.Unchanged(stat.Size);
            return Task.FromResult(node);
        }
        try
        {
            using var handle = dir.OpenFile(entry);
            if (!Unchanged(FileStat.Of(handle, path), stat, path)) return null;
            await using var file = new FileStream(handle, FileAccess.Read, bufferSize: 0);
            var (contentTask, size) = await content.QueueAsync(file, stats, ct);
            // The size is what was read: restic's check insists that it equals the sum of the blobs.
            node.Size = (ulong)size;
            // Written to while it was read: what was read is kept, and the snapshot says so in a warning.
            var after = FileStat.Of(handle, path);
            if (after.Size != stat.Size || after.MTimeSec != stat.MTimeSec || after.MTimeNsec != stat.MTimeNsec)
                stats.Error($"{path} changed while it was read; saved as read ({size} bytes)");
            return WithContent(node, contentTask);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stats.Error($"cannot read {path}: {e.Message}");
            return null;
        }
    }

    private async Task<Task<Node>?> SaveDirectoryAsync(DirectoryHandle parent, string entry, string path, FileStat stat, Node node,
        Node? before, CancellationToken ct)
    {
        DirectoryHandle dir;
        try
        {
            dir = parent.OpenDirectory(entry);
        }
        catch (IOException e) when (e.Is(Native.ENOENT) || e.Is(Native.ENOTDIR) || e.Is(Native.ELOOP))
        {
            stats.Error($"{path} vanished or stopped being a directory during the backup; not saved");
            return null;
        }
        catch (IOException e)
        {
            stats.Error($"cannot read directory {path}: {e.Message}");
            node.Error = e.Message;
            return CompleteDirectory(node, before, SaveTreeAsync([], Previous.Nothing, ct));
        }
        using (dir)
        {
            if (!Unchanged(dir.Stat(), stat, path)) return null;
            stats.Directories++;
            var children = new List<Task<Node>>();
            var previous = await PreviousAsync(before?.Subtree, ct);
            try
            {
                var names = dir.ReadNames();
                names.Sort(FileName.Compare);
                foreach (var child in names)
                    if (await SaveEntryAsync(dir, child, child, FileName.Join(path, child), previous.Nodes.GetValueOrDefault(child), ct) is { } saved)
                        children.Add(saved);
            }
            catch (IOException e)
            {
                stats.Error($"cannot read directory {path}: {e.Message}");
                node.Error = e.Message;
            }
            return CompleteDirectory(node, before, SaveTreeAsync(children, previous, ct));
        }
    }

    /// <summary>Whether what was opened is what was listed; a warning when an entry was swapped meanwhile.</summary>
    private bool Unchanged(FileStat opened, FileStat listed, string path)
    {
        if (opened.SameFile(listed) && opened.NodeType == listed.NodeType) return true;
        stats.Error($"{path} was replaced during the backup; not saved");
        return false;
    }

    private static async Task<Node> WithContent(Node node, Task<Id[]> content)
    {
        node.Content = [.. await content];
        return node;
    }

    private Node NodeFor(string name, FileStat s)
    {
        var offset = (int)TimeZoneInfo.Local.BaseUtcOffset.TotalMinutes;
        var node = new Node
        {
            Name = name,
            Type = s.NodeType,
            Mode = s.GoMode,
            ModTime = new Timestamp(s.MTimeSec, (int)s.MTimeNsec, offset),
            AccessTime = changes.WithAtime ? new Timestamp(s.ATimeSec, (int)s.ATimeNsec, offset) : new Timestamp(s.MTimeSec, (int)s.MTimeNsec, offset),
            ChangeTime = new Timestamp(s.CTimeSec, (int)s.CTimeNsec, offset),
            Uid = s.Uid,
            Gid = s.Gid,
            User = UnixNames.User(s.Uid),
            Group = UnixNames.Group(s.Gid),
            Inode = s.Inode,
            DeviceId = s.Device,
            // As restic 0.14 records it: not for directories, FIFOs and sockets, whose trees are then restic's own.
            Links = s.NodeType is Node.File or Node.Symlink or Node.Dev or Node.CharDev ? s.Links : 0,
        };
        switch (node.Type)
        {
            case Node.File:
                node.Content = [];
                break;
            case Node.Dev or Node.CharDev:
                node.Device = s.RDevice;
                break;
        }
        return node;
    }
}
