using Backups.Core.Locks;
using Backups.Core.Packs;
using Backups.Core.Snapshots;
using Backups.Core.Trees;
using Repo = Backups.Core.Repository.Repository;

namespace Backups.Core.Archiving;

public sealed record BackupOptions
{
    public string? Host { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
    public IReadOnlyList<string> Excludes { get; init; } = [];
    public DateTimeOffset? Time { get; init; }
    public int Workers { get; init; } = Math.Max(2, Environment.ProcessorCount);
    public int Uploads { get; init; } = 2;
    /// <summary>Runs after all data is stored and before the snapshot is written; throwing prevents the
    /// snapshot (a source command's exit status is checked here).</summary>
    public Func<Task>? BeforeSnapshot { get; init; }
}

public sealed record BackupResult(Snapshot Snapshot, PackerStats Added, long BytesRead, long Files, long Directories, IReadOnlyList<string> Errors);

/// <summary>
/// One backup run: lock, store the content, store the packs and their index, and only then the snapshot.
/// Whatever fails before the last step leaves no snapshot (at most unreferenced packs that prune removes).
/// </summary>
public static class Backup
{
    public static async Task<BackupResult> StdinAsync(Repo repo, Stream input, string filename, BackupOptions options, CancellationToken ct = default)
    {
        var name = filename.Trim('/');
        if (name.Length == 0 || name.Contains('/'))
            throw new Repository.RepositoryException(Repository.ErrorKind.InvalidArgument, $"--stdin-filename '{filename}' must be a plain file name");
        return await RunAsync(repo, options, ["/" + name], async (packer, content, token) =>
        {
            var now = Json.Timestamp.FromDateTimeOffset(options.Time ?? DateTimeOffset.Now);
            var (contentTask, size) = await content.QueueAsync(input, token);
            var node = new Node
            {
                Name = name, Type = Node.File, Mode = 0b110_100_100, ModTime = now, AccessTime = now, ChangeTime = now,
                Uid = UnixNames.CurrentUid, Gid = UnixNames.CurrentGid, User = UnixNames.User(UnixNames.CurrentUid),
                Size = (ulong)size, Content = [.. await contentTask],
            };
            var json = TreeJson.Serialize(new Tree { Nodes = [node] });
            var id = Id.Hash(json);
            await packer.SaveAsync(BlobType.Tree, id, json, token);
            return (id, 1L, 0L, (IReadOnlyList<string>)[]);
        }, ct);
    }

    public static async Task<BackupResult> PathsAsync(Repo repo, IReadOnlyList<string> paths, BackupOptions options, CancellationToken ct = default)
    {
        var absolute = paths.Select(p => Path.TrimEndingDirectorySeparator(Path.GetFullPath(p))).Distinct().ToList();
        foreach (var p in absolute)
            if (!File.Exists(p) && !Directory.Exists(p) && new FileInfo(p).LinkTarget == null)
                throw new Repository.RepositoryException(Repository.ErrorKind.NotFound, $"{p} does not exist");
        var excludes = options.Excludes.Select(e => new ExcludePattern(e)).ToList();
        return await RunAsync(repo, options, absolute, async (packer, content, token) =>
        {
            var archiver = new Archiver(packer, content, excludes);
            var tree = await archiver.SaveAsync(absolute, token);
            return (tree, archiver.Files, archiver.Directories, archiver.Errors);
        }, ct);
    }

    private static async Task<BackupResult> RunAsync(Repo repo, BackupOptions options, List<string> paths,
        Func<Packer, ContentSaver, CancellationToken, Task<(Id Tree, long Files, long Dirs, IReadOnlyList<string> Errors)>> save,
        CancellationToken ct)
    {
        await using var repoLock = await RepositoryLock.AcquireAsync(repo, exclusive: false, ct);
        await repo.LoadIndexAsync(ct);
        await using var packer = new Packer(repo, options.Uploads);
        await using var content = new ContentSaver(repo, packer, options.Workers, ct);
        var (tree, files, dirs, errors) = await save(packer, content, ct);
        await content.CompleteAsync();
        await packer.FlushAsync(ct);
        if (options.BeforeSnapshot != null) await options.BeforeSnapshot();

        var snapshot = new Snapshot
        {
            Time = options.Time ?? DateTimeOffset.Now,
            Tree = tree,
            Paths = paths,
            Hostname = options.Host ?? Environment.MachineName,
            Username = Environment.UserName,
            Uid = UnixNames.CurrentUid,
            Gid = UnixNames.CurrentGid,
            Tags = options.Tags.Count > 0 ? [.. options.Tags] : null,
            Excludes = options.Excludes.Count > 0 ? [.. options.Excludes] : null,
            ProgramVersion = ProgramInfo.Version,
        };
        snapshot.Id = await repo.SaveSnapshotAsync(snapshot, ct);
        return new BackupResult(snapshot, packer.Stats, content.BytesRead, files, dirs, errors);
    }
}
