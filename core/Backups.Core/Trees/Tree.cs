using System.Text.Json.Serialization;
using Backups.Core.FileSystem;
using Backups.Core.Json;

namespace Backups.Core.Trees;

/// <summary>A directory listing blob: nodes strictly sorted by name (byte order of the names' bytes).</summary>
public sealed class Tree
{
    [JsonPropertyName("nodes")] public List<Node> Nodes { get; set; } = [];

    public void Sort() => Nodes.Sort((a, b) => FileName.Compare(a.Name, b.Name));
}

/// <summary>One entry of a tree, in restic's field order and with its omit-empty rules.</summary>
public sealed class Node
{
    public const string File = "file", Dir = "dir", Symlink = "symlink", Dev = "dev", CharDev = "chardev", Fifo = "fifo", Socket = "socket";

    /// <summary>The name as the file system holds it (a <see cref="FileName"/> string); stored quoted as restic does.</summary>
    [JsonPropertyName("name"), JsonConverter(typeof(NodeNameJsonConverter))] public string Name { get; set; } = "";
    [JsonPropertyName("type")] public string Type { get; set; } = File;
    [JsonPropertyName("mode"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public uint Mode { get; set; }
    [JsonPropertyName("mtime")] public Timestamp ModTime { get; set; }
    [JsonPropertyName("atime")] public Timestamp AccessTime { get; set; }
    [JsonPropertyName("ctime")] public Timestamp ChangeTime { get; set; }
    [JsonPropertyName("uid")] public uint Uid { get; set; }
    [JsonPropertyName("gid")] public uint Gid { get; set; }
    [JsonPropertyName("user"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public string? User { get; set; }
    [JsonPropertyName("group"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public string? Group { get; set; }
    [JsonPropertyName("inode"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Inode { get; set; }
    [JsonPropertyName("device_id"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong DeviceId { get; set; }
    [JsonPropertyName("size"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Size { get; set; }
    [JsonPropertyName("links"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Links { get; set; }
    [JsonPropertyName("linktarget"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public string? LinkTarget { get; set; }
    [JsonPropertyName("device"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Device { get; set; }
    // Not omitted when empty, as in restic: a directory says "content":null, a file lists its blobs ([] when empty).
    [JsonPropertyName("content"), JsonIgnore(Condition = JsonIgnoreCondition.Never)] public List<Id>? Content { get; set; }
    [JsonPropertyName("subtree"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public Id? Subtree { get; set; }
    [JsonPropertyName("error"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public string? Error { get; set; }

    // restic stores Go's os.FileMode: permission bits plus type flags in the high bits.
    public const uint GoModeDir = 1u << 31, GoModeSymlink = 1u << 27, GoModeDevice = 1u << 26, GoModeNamedPipe = 1u << 25,
        GoModeSocket = 1u << 24, GoModeSetuid = 1u << 23, GoModeSetgid = 1u << 22, GoModeCharDevice = 1u << 21, GoModeSticky = 1u << 20;

    /// <summary>The Unix permission bits (with setuid/setgid/sticky) of a Go file mode.</summary>
    [JsonIgnore] public UnixFileMode Permissions
    {
        get
        {
            var m = Mode & 0x1ff;
            if ((Mode & GoModeSetuid) != 0) m |= 0x800;
            if ((Mode & GoModeSetgid) != 0) m |= 0x400;
            if ((Mode & GoModeSticky) != 0) m |= 0x200;
            return (UnixFileMode)m;
        }
    }
}
