using Backups.Core.FileSystem;
using Backups.Core.Chunking;
using Backups.Core.Filtering;
using Backups.Core.Locks;
using Backups.Core.Snapshots;
using Backups.Core.Trees;
using Backups.Core.Json;
using Backups.Core.Repositories;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Archiving;

/// <summary>
/// One backup session: one lock, one index load and one upload pipeline shared by any number of sources,
/// which may save concurrently. Snapshots are written only after <see cref="FinishAsync"/> has stored every
/// pack and index file they need; a source that fails simply gets no snapshot (its blobs stay unreferenced
/// until prune).
/// </summary>
public sealed class BackupSession : IAsyncDisposable
{
    private readonly Repo _repo;
    private readonly RepositoryLock _lock;
    private readonly ContentSaver _content;
    private bool _finished;

    private BackupSession(Repo repo, RepositoryLock repoLock, ContentSaver content)
    {
        _repo = repo;
        _lock = repoLock;
        _content = content;
    }

    /// <param name="uploads">How many packs are stored at once where the store sets no bound of its own (a local
    /// folder); an S3 store takes its connection count (-o s3.connections).</param>
    public static async Task<BackupSession> StartAsync(Repo repo, int workers, int uploads, CancellationToken ct)
    {
        var repoLock = await RepositoryLock.AcquireAsync(repo, exclusive: false, ct);
        try
        {
            await repo.LoadIndexAsync(ct);
            repo.PackUploads = repo.Backend.Connections ?? uploads;
            return new BackupSession(repo, repoLock, new ContentSaver(repo, workers, ct));
        }
        catch
        {
            await repoLock.DisposeAsync();
            throw;
        }
    }

    /// <summary>Saves a stream as the single file of a snapshot (restic's --stdin); returns the root tree.</summary>
    public async Task<Id> SaveStreamAsync(Stream input, string filename, DateTimeOffset time, SourceStats stats, CancellationToken ct) =>
        await SaveTreeAsync([await SaveFileAsync(input, filename, time, stats, ct)], stats, ct);

    /// <summary>Saves a stream as a file node of this user, for a tree made with <see cref="SaveTreeAsync"/>.</summary>
    public async Task<Node> SaveFileAsync(Stream input, string filename, DateTimeOffset time, SourceStats stats, CancellationToken ct)
    {
        var (contentTask, size) = await _content.QueueAsync(input, stats, ct);
        var now = Timestamp.FromDateTimeOffset(time);
        var node = new Node
        {
            Name = filename, Type = Node.File, Mode = 0b110_100_100, ModTime = now, AccessTime = now, ChangeTime = now,
            Uid = UnixNames.CurrentUid, Gid = UnixNames.CurrentGid, User = UnixNames.User(UnixNames.CurrentUid),
            Size = (ulong)size, Content = [.. await contentTask],
        };
        stats.Files++;
        return node;
    }

    /// <summary>Stores a tree of the given nodes (in restic's name order); returns its id.</summary>
    public Task<Id> SaveTreeAsync(IReadOnlyList<Node> nodes, SourceStats stats, CancellationToken ct)
    {
        var tree = new Tree { Nodes = [.. nodes] };
        tree.Sort();
        return stats.SaveTreeAsync(_repo, tree, ct);
    }

    /// <summary>Saves files and directories (absolute or relative paths); returns the root tree. Files unchanged
    /// since <paramref name="parent"/> (by <paramref name="changes"/>) keep its content without being read.</summary>
    public Task<Id> SavePathsAsync(IReadOnlyList<string> targets, IReadOnlyList<PathPattern> excludes, Snapshot? parent,
        ChangeDetection changes, SourceStats stats, CancellationToken ct) =>
        SavePathsAsync(targets, Exclusions.Of(excludes), parent, changes, stats, ct);

    /// <summary>As above, leaving out what <paramref name="exclusions"/> names.</summary>
    public Task<Id> SavePathsAsync(IReadOnlyList<string> targets, Exclusions exclusions, Snapshot? parent,
        ChangeDetection changes, SourceStats stats, CancellationToken ct) =>
        new Archiver(_repo, _content, exclusions, changes, stats).SaveAsync(targets, parent?.Tree, ct);

    /// <summary>The snapshot a paths backup compares with, as restic picks it: the newest one of the same host that
    /// holds all these paths (and, given, these tags); none when there is none.</summary>
    public async Task<Snapshot?> FindParentAsync(IReadOnlyList<string> absolutePaths, string? host, IReadOnlyList<string> tags, CancellationToken ct)
    {
        try
        {
            return await SnapshotFinder.FindAsync(_repo, "latest", host ?? Environment.MachineName, tags, absolutePaths, onDamaged: _ => { }, ct);
        }
        catch (RepositoryException e) when (e.Kind == ErrorKind.NotFound)
        {
            return null;
        }
    }

    /// <summary>Stores everything saved so far: all packs, then their index. No more saving afterwards.</summary>
    public async Task FinishAsync(CancellationToken ct)
    {
        await _content.CompleteAsync();
        await _repo.FlushAsync(ct);
        _finished = true;
    }

    public async Task<Snapshot> WriteSnapshotAsync(Snapshot snapshot, CancellationToken ct)
    {
        if (!_finished) throw new InvalidOperationException("a snapshot may only be written after FinishAsync");
        snapshot.ProgramVersion ??= ProgramInfo.Version;
        snapshot.Id = await _repo.SaveSnapshotAsync(snapshot, ct);
        return snapshot;
    }

    /// <summary>A snapshot of this machine and user, as restic fills one in.</summary>
    public static Snapshot NewSnapshot(Id tree, IReadOnlyList<string> paths, DateTimeOffset time, string? host,
        IReadOnlyList<string> tags, IReadOnlyList<string> excludes, Id? parent = null) => new()
    {
        Time = time,
        Parent = parent,
        Tree = tree,
        Paths = [.. paths],
        Hostname = host ?? Environment.MachineName,
        Username = Environment.UserName,
        Uid = UnixNames.CurrentUid,
        Gid = UnixNames.CurrentGid,
        Tags = tags.Count > 0 ? [.. tags] : null,
        Excludes = excludes.Count > 0 ? [.. excludes] : null,
    };

    public async ValueTask DisposeAsync()
    {
        await _content.DisposeAsync();
        await _repo.DiscardBlobsAsync();
        await _lock.DisposeAsync();
    }

    /// <summary>restic's rule for --stdin-filename: a plain name, the snapshot's only file.</summary>
    public static string CheckFilename(string filename)
    {
        var name = filename.Trim('/');
        if (name.Length == 0 || name.Contains('/'))
            throw new RepositoryException(ErrorKind.InvalidArgument, $"file name '{filename}' must be a plain file name");
        return name;
    }
}
