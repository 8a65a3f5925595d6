using Backups.Core.Repositories;
using Backups.Core.Snapshots;
using Backups.Core.Trees;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Wal;

/// <summary>One archived file: its node (content, size) and the WAL snapshot that holds it.</summary>
public sealed record ArchivedWal(WalFileName Name, Node Node, Snapshot Snapshot)
{
    /// <summary>When PostgreSQL finished writing the file (its mtime in pg_wal, the node's mtime): no transaction
    /// after it is in it, however late a backlog was archived. (An archiver before this one recorded when it took
    /// the file in. The snapshot's own time is its batch's, or its day's last once Retention merged the batches.)</summary>
    public DateTimeOffset Written => Node.ModTime.ToDateTimeOffset();
}

/// <summary>
/// The WAL files of one source, as its WAL snapshots hold them: each snapshot's tree is a flat list of the files
/// one batch archived. Read by the archiver (what is stored already), by recovery (what can be fetched) and by
/// check (whether the chain from the oldest base backup to the newest segment is whole).
/// </summary>
public sealed class WalArchive
{
    private readonly Dictionary<string, ArchivedWal> _files = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, ArchivedWal> Files => _files;

    /// <summary>PostgreSQL's largest wal_segment_size: no WAL file is longer.</summary>
    public const long MaxFileLength = 1L << 30;

    public static async Task<WalArchive> LoadAsync(Repo repo, string source, IEnumerable<Snapshot> snapshots, CancellationToken ct)
    {
        var archive = new WalArchive();
        foreach (var s in snapshots.Where(s => SnapshotSource.Of(s) == source && PgSnapshots.IsWal(s)).OrderBy(s => s.Time))
            archive.Add(await TreeJson.LoadAsync(repo, s.Tree, ct), s);
        return archive;
    }

    /// <summary>
    /// The file archived last, by the time the archiver received it (the node's mtime), from the newest WAL
    /// snapshot alone: one tree read instead of every batch's. Null when the source has no WAL snapshot.
    /// </summary>
    public static async Task<ArchivedWal?> NewestAsync(Repo repo, string source, IEnumerable<Snapshot> snapshots, CancellationToken ct)
    {
        var newest = snapshots.Where(s => SnapshotSource.Of(s) == source && PgSnapshots.IsWal(s)).MaxBy(s => s.Time);
        if (newest == null) return null;
        var archive = new WalArchive();
        archive.Add(await TreeJson.LoadAsync(repo, newest.Tree, ct), newest);
        return archive.Files.Values.MaxBy(f => f.Written);
    }

    /// <summary>Takes in a WAL snapshot's files; a name the tree holds that is no WAL file name is damage.</summary>
    public void Add(Tree tree, Snapshot snapshot)
    {
        foreach (var node in tree.Nodes)
        {
            if (node.Type != Node.File || !WalFileName.TryParse(node.Name, out var name))
                throw new RepositoryException(ErrorKind.Damaged, $"WAL snapshot {snapshot.Id.Short} holds '{node.Name}', which is no WAL file");
            _files.TryAdd(node.Name, new ArchivedWal(name, node, snapshot));
        }
    }

    /// <summary>The size of a segment: every whole segment has it (PostgreSQL's wal_segment_size, 16 MiB by default).</summary>
    public long? SegmentSize => _files.Values.FirstOrDefault(f => f.Name.IsSegment)?.Node.Size is { } size ? (long)size : null;

    /// <summary>The first segment missing from segment number <paramref name="from"/> through <paramref name="through"/>
    /// along <paramref name="path"/> (a chain a replay must have whole); null when none is missing.</summary>
    public WalFileName? FirstMissing(TimelinePath path, ulong from, ulong through)
    {
        for (var n = from; n <= through; n++)
            if (path.Segment(n) is var segment && !_files.ContainsKey(segment.Name)) return segment;
        return null;
    }

    /// <summary>An archived file's bytes.</summary>
    public static Task<byte[]> ReadAsync(Repo repo, ArchivedWal archived, CancellationToken ct) =>
        ReadAsync(archived, (id, token) => repo.LoadBlobAsync(BlobType.Data, id, token), ct);

    /// <summary>An archived file's bytes, its blobs loaded by <paramref name="loadBlob"/> (check finds them through an
    /// index of its own); a file longer than any WAL file, or whose blobs do not add up to its size, is damage.</summary>
    public static async Task<byte[]> ReadAsync(ArchivedWal archived, Func<Id, CancellationToken, Task<byte[]>> loadBlob, CancellationToken ct)
    {
        if (archived.Node.Size > MaxFileLength)
            throw new RepositoryException(ErrorKind.Damaged, $"{archived.Name} claims {archived.Node.Size} bytes, more than any WAL file holds");
        var content = new byte[archived.Node.Size];
        var at = 0;
        foreach (var id in archived.Node.Content ?? [])
        {
            var blob = await loadBlob(id, ct);
            if (at + blob.Length > content.Length)
                throw new RepositoryException(ErrorKind.Damaged, $"{archived.Name} is longer than its recorded size");
            blob.CopyTo(content, at);
            at += blob.Length;
        }
        if (at != content.Length) throw new RepositoryException(ErrorKind.Damaged, $"{archived.Name} is shorter than its recorded size");
        return content;
    }

    /// <summary>Whether <paramref name="content"/> is what the archive holds as <paramref name="archived"/> (a segment
    /// pushed again after a crash must be byte for byte the one stored): each stored blob's id is the hash of the
    /// stretch it covers, its length read from the index, so no chunking is redone, whichever one stored it.</summary>
    public static bool SameContent(Repo repo, ArchivedWal archived, ReadOnlySpan<byte> content)
    {
        if ((ulong)content.Length != archived.Node.Size) return false;
        var at = 0;
        foreach (var id in archived.Node.Content ?? [])
        {
            if (!repo.Index.TryGet(BlobType.Data, id, out var loc))
                throw new RepositoryException(ErrorKind.Damaged, $"{archived.Name}: data blob {id} is not in the index");
            if (loc.PlaintextLength > content.Length - at || Id.Hash(content.Slice(at, loc.PlaintextLength)) != id) return false;
            at += loc.PlaintextLength;
        }
        return at == content.Length;
    }
}
