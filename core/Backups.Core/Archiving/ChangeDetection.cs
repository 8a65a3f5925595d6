using Backups.Core.FileSystem;
using Backups.Core.Trees;

namespace Backups.Core.Archiving;

/// <summary>
/// restic's rule for a file that need not be read again: the parent snapshot holds a file of the same size,
/// modification time, change time and inode (the last two can be ignored, as with restic's --ignore-ctime and
/// --ignore-inode, for file systems that do not keep them stable). A node records its file's access time only with
/// <see cref="WithAtime"/> (restic's --with-atime); by default it records the modification time there, as restic
/// does, so that merely reading a file (by restic, a cron job, grep) leaves its directory's tree equal to the
/// parent's and reused.
/// </summary>
public sealed record ChangeDetection(bool IgnoreCtime = false, bool IgnoreInode = false, bool WithAtime = false)
{
    public bool Unchanged(FileStat now, Node? before) =>
        before is { Type: Node.File, Content: not null }
        && before.Size == now.Size
        && before.ModTime.UnixSeconds == now.MTimeSec && before.ModTime.Nanoseconds == now.MTimeNsec
        && (IgnoreCtime || before.ChangeTime.UnixSeconds == now.CTimeSec && before.ChangeTime.Nanoseconds == now.CTimeNsec)
        && (IgnoreInode || before.Inode == now.Inode);
}
