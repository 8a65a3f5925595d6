using System.Runtime.InteropServices;
using System.Text;
using Backups.Core.Trees;
using Repo = Backups.Core.Repository.Repository;

namespace Backups.Core.Restoring;

/// <summary>
/// Restores a tree into a directory: contents, symlinks, modes, owners (when root) and nanosecond mtimes.
/// Directory metadata is applied last, after their contents stop changing them.
/// </summary>
public sealed class Restorer(Repo repo)
{
    public long Files { get; private set; }
    public long Bytes { get; private set; }

    public async Task RestoreAsync(Id tree, string target, CancellationToken ct = default)
    {
        Directory.CreateDirectory(target);
        await RestoreTreeAsync(tree, Path.GetFullPath(target), ct);
    }

    private async Task RestoreTreeAsync(Id treeId, string dir, CancellationToken ct)
    {
        var tree = await TreeJson.LoadAsync(repo, treeId, ct);
        foreach (var node in tree.Nodes)
        {
            if (node.Name is "" or "." or ".." || node.Name.Contains('/'))
                throw new Repository.RepositoryException(Repository.ErrorKind.Damaged, $"tree {treeId} is damaged: invalid name '{node.Name}'");
            var path = Path.Combine(dir, node.Name);
            switch (node.Type)
            {
                case Node.Dir:
                    Directory.CreateDirectory(path);
                    if (node.Subtree is { } sub) await RestoreTreeAsync(sub, path, ct);
                    break;
                case Node.File:
                    await using (var f = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
                        Bytes += await ContentReader.CopyToAsync(repo, node.Content ?? [], f, ct);
                    Files++;
                    break;
                case Node.Symlink:
                    if (File.Exists(path) || Directory.Exists(path) || new FileInfo(path).LinkTarget != null) File.Delete(path);
                    File.CreateSymbolicLink(path, node.LinkTarget ?? "");
                    break;
                default:
                    continue; // devices, fifos and sockets are not recreated
            }
            ApplyMetadata(path, node);
        }
    }

    private static void ApplyMetadata(string path, Node node)
    {
        if (UnixFileSystem.IsRoot) UnixFileSystem.Lchown(path, node.Uid, node.Gid);
        if (node.Type != Node.Symlink) File.SetUnixFileMode(path, node.Permissions);
        UnixFileSystem.SetTimes(path, node.AccessTime, node.ModTime);
    }
}

internal static class UnixFileSystem
{
    private const int AtFdCwd = -100, AtSymlinkNoFollow = 0x100;

    [DllImport("libc", SetLastError = true)] private static extern unsafe int utimensat(int dirfd, byte* path, long* times, int flags);
    [DllImport("libc", SetLastError = true)] private static extern unsafe int lchown(byte* path, uint owner, uint group);
    public static bool IsRoot { get; } = Archiving.UnixNames.CurrentUid == 0;

    public static unsafe void SetTimes(string path, Json.Timestamp atime, Json.Timestamp mtime)
    {
        var times = stackalloc long[4];
        (times[0], times[1]) = (atime.UnixSeconds, atime.Nanoseconds);
        (times[2], times[3]) = (mtime.UnixSeconds, mtime.Nanoseconds);
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
            if (utimensat(AtFdCwd, p, times, AtSymlinkNoFollow) != 0)
                throw new IOException($"cannot set times of {path}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
    }

    public static unsafe void Lchown(string path, uint uid, uint gid)
    {
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
            if (lchown(p, uid, gid) != 0)
                throw new IOException($"cannot set owner of {path}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
    }
}
