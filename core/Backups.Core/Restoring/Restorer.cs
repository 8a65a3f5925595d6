using Backups.Core.Archiving;
using Backups.Core.FileSystem;
using Backups.Core.Repository;
using Backups.Core.Trees;
using Microsoft.Win32.SafeHandles;
using Repo = Backups.Core.Repository.Repository;

namespace Backups.Core.Restoring;

/// <summary>
/// Restores a tree into a directory: contents, symlinks, FIFOs, devices (as root), hard links, modes, owners (as
/// root) and nanosecond times. Every entry is made relative to its opened parent directory and never through a
/// symlink, and whatever already has an entry's name is replaced rather than written through, so neither the
/// snapshot nor the target's previous contents can direct a write outside the target. Directory metadata is
/// applied last, after their contents stop changing them.
/// </summary>
public sealed class Restorer(Repo repo)
{
    // Hard-link groups whose first file stays open until its other names are made; past this many, further
    // groups are restored as copies rather than holding ever more descriptors.
    private const int MaxOpenLinkGroups = 1000;
    private readonly Dictionary<(ulong Inode, ulong Device), LinkGroup> _links = [];

    public long Files { get; private set; }
    public long Bytes { get; private set; }

    public async Task RestoreAsync(Id tree, string target, CancellationToken ct = default)
    {
        var full = Path.GetFullPath(target);
        if (File.Exists(full))
            throw new RepositoryException(ErrorKind.InvalidArgument, $"cannot restore into {target}: it is a file, not a directory");
        Directory.CreateDirectory(full);
        using var root = DirectoryHandle.Open(full);
        try
        {
            await RestoreTreeAsync(tree, root, ct);
        }
        finally
        {
            foreach (var group in _links.Values) group.File.Dispose();
            _links.Clear();
        }
    }

    private async Task RestoreTreeAsync(Id treeId, DirectoryHandle dir, CancellationToken ct)
    {
        var tree = await TreeJson.LoadAsync(repo, treeId, ct);
        foreach (var node in tree.Nodes)
        {
            ct.ThrowIfCancellationRequested();
            var (owner, group) = Ownership(node);
            switch (node.Type)
            {
                case Node.Dir:
                    using (var sub = dir.CreateDirectory(node.Name))
                    {
                        if (node.Subtree is { } subtree) await RestoreTreeAsync(subtree, sub, ct);
                        sub.SetMetadata(owner, group, (uint)node.Permissions, Times(node));
                    }
                    break;
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
            dir.Link(first.File, node.Name);
            if (--first.Remaining == 0)
            {
                first.File.Dispose();
                _links.Remove((node.Inode, node.DeviceId));
            }
            return;
        }
        var file = dir.CreateFile(node.Name);
        try
        {
            // The stream borrows the descriptor: it stays open for the metadata and for hard links to it.
            await using (var stream = new FileStream(new SafeFileHandle(file.DangerousGetHandle(), ownsHandle: false), FileAccess.Write, 1 << 20))
                Bytes += await ContentReader.CopyToAsync(repo, node.Content ?? [], stream, ct);
            var (owner, group) = Ownership(node);
            FileMetadata.Set(file, dir.PathOf(node.Name), owner, group, (uint)node.Permissions, Times(node));
        }
        catch
        {
            file.Dispose();
            throw;
        }
        if (linked && _links.Count < MaxOpenLinkGroups) _links[(node.Inode, node.DeviceId)] = new LinkGroup(file, node.Links - 1);
        else file.Dispose();
    }

    private sealed class LinkGroup(SafeFileHandle file, ulong remaining)
    {
        public SafeFileHandle File { get; } = file;
        public ulong Remaining { get; set; } = remaining;
    }

    private static (uint? Owner, uint? Group) Ownership(Node node) => UnixNames.IsRoot ? (node.Uid, node.Gid) : (null, null);

    private static FileTimes Times(Node node) =>
        new(node.AccessTime.UnixSeconds, node.AccessTime.Nanoseconds, node.ModTime.UnixSeconds, node.ModTime.Nanoseconds);
}
