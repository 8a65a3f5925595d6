using Backups.Core.Json;
using Backups.Core.Trees;

namespace Backups.Core.Inspecting;

/// <summary>restic's Node.Equals: every stored field, times as instants (the zone they were written in aside).</summary>
public static class NodeEquality
{
    public static bool Equal(Node a, Node b) =>
        a.Name == b.Name && a.Type == b.Type && a.Mode == b.Mode
        && SameInstant(a.ModTime, b.ModTime) && SameInstant(a.AccessTime, b.AccessTime) && SameInstant(a.ChangeTime, b.ChangeTime)
        && a.Uid == b.Uid && a.Gid == b.Gid && (a.User ?? "") == (b.User ?? "") && (a.Group ?? "") == (b.Group ?? "")
        && a.Inode == b.Inode && a.DeviceId == b.DeviceId && a.Size == b.Size && a.Links == b.Links
        && (a.LinkTarget ?? "") == (b.LinkTarget ?? "") && a.Device == b.Device
        && SameContent(a.Content, b.Content)
        && a.Subtree == b.Subtree && (a.Error ?? "") == (b.Error ?? "");

    /// <summary>Go's comparison of content lists: null (a directory's) and empty (an empty file's) differ.</summary>
    public static bool SameContent(List<Id>? a, List<Id>? b) => a == null || b == null ? a == b : a.SequenceEqual(b);

    private static bool SameInstant(Timestamp a, Timestamp b) => a.UnixSeconds == b.UnixSeconds && a.Nanoseconds == b.Nanoseconds;
}
