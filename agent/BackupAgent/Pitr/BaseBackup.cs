using System.Buffers.Binary;
using System.Formats.Tar;
using System.Globalization;
using System.Text;
using System.Text.Json;
using BackupAgent.Drills;
using BackupAgent.Run;
using Backups.Core;
using Backups.Core.Archiving;
using Backups.Core.Json;
using Backups.Core.Trees;
using Backups.Core.Wal;

namespace BackupAgent.Pitr;

/// <summary>
/// A physical base backup of a whole cluster, the start of point-in-time recovery. pg_basebackup writes it as
/// one tar stream to stdout (nothing staged on the box) and the stream is saved as the data directory's own
/// tree, one file node per file: an unchanged relation file is the same blobs from one base backup to the next
/// (a tar stream chunked whole would resynchronise only after each changed file), and `restic restore` of the
/// snapshot is a data directory, ready for recovery without any tool of ours.
/// Why pg_basebackup and not pg_backup_start/stop with a copy of the files: it needs only a replication
/// connection (no file access to the data directory, no session held open around a copy), it waits until the
/// WAL the backup needs is archived, and it excludes what must not be copied (postmaster.pid, pg_wal's content,
/// temporary files) by the server's own rules. Its limit: one tablespace (tar to stdout refuses more).
/// WAL is not included (-X none): the archive holds it, so the base backup is only restorable with it.
/// </summary>
public static class BaseBackup
{
    public static IReadOnlyList<string> Command(SourceConfig source) =>
    [
        "pg_basebackup", "--pgdata=-", "--format=tar", "--wal-method=none",
        // The nightly run is the quiet hour: a spread checkpoint would hold it for up to checkpoint_timeout × 0.9.
        "--checkpoint=fast", "--label=" + $"backup-agent {source.Name}",
        // pg_basebackup reads --dbname as a connection string, and a replication connection names no database.
        .. PostgresConnection.Of(source, null).Arguments.Where(a => !a.StartsWith("--dbname=", StringComparison.Ordinal)),
    ];

    /// <summary>Saves the tar stream's members as a tree; returns its root and the facts recovery needs.</summary>
    public static async Task<(Id Tree, BaseBackupFacts Facts)> SaveAsync(BackupSession session, Stream tar, SourceStats stats, CancellationToken ct)
    {
        var directories = new Dictionary<string, (Node Node, List<Node> Children)>(StringComparer.Ordinal) { [""] = (new Node(), []) };
        byte[]? label = null, manifest = null, control = null, version = null;
        using var reader = new TarReader(tar);
        while (await reader.GetNextEntryAsync(copyData: false, ct) is { } entry)
        {
            var path = MemberPath(entry.Name);
            if (path.Length == 0) continue;
            var (parent, name) = Split(path);
            var node = NodeOf(entry, name);
            if (entry.EntryType == TarEntryType.Directory)
            {
                directories.TryAdd(path, (node, []));
                continue;
            }
            if (entry.EntryType is TarEntryType.SymbolicLink) node.LinkTarget = entry.LinkName;
            else if (entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile)
            {
                Stream content = entry.DataStream ?? Stream.Null;
                // The few small files whose facts are needed are read whole on the way.
                if (path is "backup_label" or "backup_manifest" or "global/pg_control" or "PG_VERSION")
                {
                    var bytes = await ReadAllAsync(content, ct);
                    (label, manifest, control, version) = path switch
                    {
                        "backup_label" => (bytes, manifest, control, version),
                        "backup_manifest" => (label, bytes, control, version),
                        "global/pg_control" => (label, manifest, bytes, version),
                        _ => (label, manifest, control, bytes),
                    };
                    content = new MemoryStream(bytes, writable: false);
                }
                var saved = await session.SaveFileAsync(content, name, node.ModTime.ToDateTimeOffset(), stats, ct);
                node.Content = saved.Content;
                node.Size = saved.Size;
            }
            else throw new SourceFailedException($"pg_basebackup wrote '{path}' of type {entry.EntryType}, which a data directory does not hold", null, "");
            Directory(directories, parent).Children.Add(node);
        }
        var facts = Facts(label, manifest, control, version);
        return (await SaveDirectoriesAsync(directories, session, stats, ct), facts);
    }

    private static (Node Node, List<Node> Children) Directory(Dictionary<string, (Node Node, List<Node> Children)> directories, string path)
    {
        if (directories.TryGetValue(path, out var d)) return d;
        // pg_basebackup names every directory before its files; this only keeps a stray order from losing a file.
        var (parent, name) = Split(path);
        d = (new Node { Name = name, Type = Node.Dir, Mode = Node.GoModeDir | 0b111_000_000 }, []);
        directories[path] = d;
        Directory(directories, parent);
        return d;
    }

    /// <summary>Deepest first, each directory's tree is stored and its node put into its parent's list.</summary>
    private static async Task<Id> SaveDirectoriesAsync(Dictionary<string, (Node Node, List<Node> Children)> directories, BackupSession session,
        SourceStats stats, CancellationToken ct)
    {
        foreach (var path in directories.Keys.Where(p => p.Length > 0).ToList()) Directory(directories, Split(path).Parent);
        foreach (var path in directories.Keys.Where(p => p.Length > 0).OrderByDescending(p => p.Count(c => c == '/')).ToList())
        {
            var (node, children) = directories[path];
            node.Subtree = await session.SaveTreeAsync(children, stats, ct);
            directories[Split(path).Parent].Children.Add(node);
        }
        return await session.SaveTreeAsync(directories[""].Children, stats, ct);
    }

    /// <summary>A member's path inside the data directory; one that would leave it is refused.</summary>
    private static string MemberPath(string name)
    {
        var path = name.StartsWith("./", StringComparison.Ordinal) ? name[2..] : name;
        path = path.TrimEnd('/');
        if (path.Length > 0 && (path.StartsWith('/') || path.Split('/').Any(p => p is ".." or "." or "")))
            throw new SourceFailedException($"pg_basebackup wrote a member named '{name}', outside the data directory", null, "");
        return path;
    }

    private static (string Parent, string Name) Split(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash < 0 ? ("", path) : (path[..slash], path[(slash + 1)..]);
    }

    private static Node NodeOf(TarEntry entry, string name)
    {
        var time = Timestamp.FromDateTimeOffset(entry.ModificationTime);
        var mode = (uint)entry.Mode & 0b111_111_111;
        var node = new Node
        {
            Name = name, ModTime = time, AccessTime = time, ChangeTime = time, Uid = (uint)entry.Uid, Gid = (uint)entry.Gid,
            Type = entry.EntryType switch
            {
                TarEntryType.Directory => Node.Dir,
                TarEntryType.SymbolicLink => Node.Symlink,
                _ => Node.File,
            },
        };
        node.Mode = node.Type switch
        {
            Node.Dir => Node.GoModeDir | mode,
            Node.Symlink => Node.GoModeSymlink | 0b111_111_111,
            _ => mode,
        };
        if (entry is PosixTarEntry posix)
        {
            node.User = string.IsNullOrEmpty(posix.UserName) ? null : posix.UserName;
            node.Group = string.IsNullOrEmpty(posix.GroupName) ? null : posix.GroupName;
        }
        return node;
    }

    private static async Task<byte[]> ReadAllAsync(Stream content, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        await content.CopyToAsync(buffer, ct);
        return buffer.ToArray();
    }

    /// <summary>Start and timeline from backup_label, stop from the manifest's WAL range, the system identifier
    /// from pg_control's first eight bytes, the major version from PG_VERSION.</summary>
    private static BaseBackupFacts Facts(byte[]? label, byte[]? manifest, byte[]? control, byte[]? version)
    {
        if (label == null || manifest == null || control == null || control.Length < 8 || version == null)
            throw new SourceFailedException("pg_basebackup's output lacks backup_label, backup_manifest, global/pg_control or PG_VERSION (PostgreSQL 13 or later is needed)", null, "");
        var lines = Encoding.UTF8.GetString(label).Split('\n');
        string Field(string key) => lines.FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal))?[key.Length..].Trim()
            ?? throw new SourceFailedException($"backup_label has no '{key}'", null, "");
        var start = Lsn.Parse(Field("START WAL LOCATION:").Split(' ')[0]);
        var timeline = uint.Parse(Field("START TIMELINE:"), CultureInfo.InvariantCulture);
        using var doc = JsonDocument.Parse(manifest);
        var ranges = doc.RootElement.GetProperty("WAL-Ranges");
        var stop = Lsn.Parse(ranges[ranges.GetArrayLength() - 1].GetProperty("End-LSN").GetString() ?? "");
        var system = BinaryPrimitives.ReadUInt64LittleEndian(control).ToString(CultureInfo.InvariantCulture);
        return new BaseBackupFacts(start, stop, timeline, Encoding.ASCII.GetString(version).Trim(), system);
    }
}
