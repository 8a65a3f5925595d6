using Backups.Core.Snapshots;
using Backups.Core.Filtering;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Archiving;

public sealed record BackupOptions
{
    public string? Host { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
    public IReadOnlyList<string> Excludes { get; init; } = [];
    /// <summary>Patterns that exclude as <see cref="Excludes"/> do but, as restic's from --exclude-file, are not
    /// recorded in the snapshot.</summary>
    public IReadOnlyList<string> UnrecordedExcludes { get; init; } = [];
    /// <summary>restic's --iexclude (and --iexclude-file): patterns matched regardless of case, not recorded.</summary>
    public IReadOnlyList<string> InsensitiveExcludes { get; init; } = [];
    /// <summary>restic's --exclude-if-present (and --exclude-caches): the contents of tagged directories are left out.</summary>
    public IReadOnlyList<TagFile> TagFiles { get; init; } = [];
    /// <summary>restic's --one-file-system: nothing from another file system than its target's.</summary>
    public bool OneFileSystem { get; init; }
    public DateTimeOffset? Time { get; init; }
    /// <summary>The parent snapshot's id (or a unique prefix, or "latest"); by default restic's choice.</summary>
    public string? Parent { get; init; }
    /// <summary>Read every file again, whatever the parent snapshot says (restic's --force).</summary>
    public bool Force { get; init; }
    public ChangeDetection Changes { get; init; } = new();
    public int Workers { get; init; } = Math.Max(2, Environment.ProcessorCount);
    public int Uploads { get; init; } = 2;
    /// <summary>Cuts a pg_dump custom archive read from stdin where its tables begin, so that unchanged tables
    /// deduplicate from night to night; other input is chunked exactly as restic chunks it either way.</summary>
    public bool PgDumpSegments { get; init; }
    /// <summary>Runs after all data is stored and before the snapshot is written; throwing prevents the
    /// snapshot (a source command's exit status is checked here).</summary>
    public Func<Task>? BeforeSnapshot { get; init; }
    /// <summary>Counted into as the backup goes (a progress display reads it); by default a new one.</summary>
    public SourceStats? Stats { get; init; }

    /// <summary>What a paths backup of these targets leaves out.</summary>
    /// <exception cref="ArgumentException">A pattern is malformed.</exception>
    public Exclusions ExclusionsFor(IReadOnlyList<string> absoluteTargets) => new()
    {
        Patterns = [.. Excludes.Concat(UnrecordedExcludes).Select(e => new PathPattern(e))],
        InsensitivePatterns = Exclusions.Insensitive(InsensitiveExcludes),
        TagFiles = TagFiles,
        OneFileSystem = OneFileSystem ? new FileSystems(absoluteTargets) : null,
    };
}

public sealed record BackupResult(Snapshot Snapshot, SourceStats Stats);

/// <summary>A backup of one source in a session of its own, as the CLI's `backup` makes it.</summary>
public static class Backup
{
    public static Task<BackupResult> StdinAsync(Repo repo, Stream input, string filename, BackupOptions options, CancellationToken ct = default)
    {
        var name = BackupSession.CheckFilename(filename);
        return RunAsync(repo, options, ["/" + name], async (session, time, stats, token) =>
        {
            var content = options.PgDumpSegments ? await Chunking.PgDumpSegments.OpenAsync(input, token) : input;
            return (await session.SaveStreamAsync(content, name, time, stats, token), (Id?)null);
        }, ct);
    }

    public static async Task<BackupResult> PathsAsync(Repo repo, IReadOnlyList<string> paths, BackupOptions options, CancellationToken ct = default)
    {
        var absolute = AbsolutePaths(paths);
        var exclusions = options.ExclusionsFor(absolute);
        return await RunAsync(repo, options, absolute, async (session, _, stats, token) =>
        {
            var parent = options.Force ? null
                : options.Parent is { } id ? await SnapshotFinder.FindAsync(repo, id, ct: token)
                : await session.FindParentAsync(absolute, options.Host, [], token);
            return (await session.SavePathsAsync(paths, exclusions, parent, options.Changes, stats, token), parent?.Id);
        }, ct);
    }

    /// <summary>Absolute, de-duplicated paths, as a snapshot lists its targets; every one must exist (a dangling
    /// symlink counts).</summary>
    public static List<string> AbsolutePaths(IReadOnlyList<string> paths)
    {
        var absolute = paths.Select(p => Path.TrimEndingDirectorySeparator(Path.GetFullPath(p))).Distinct().ToList();
        foreach (var p in absolute)
            if (!File.Exists(p) && !Directory.Exists(p) && new FileInfo(p).LinkTarget == null)
                throw new Repositories.RepositoryException(Repositories.ErrorKind.NotFound, $"{p} does not exist");
        return absolute;
    }

    private static async Task<BackupResult> RunAsync(Repo repo, BackupOptions options, List<string> paths,
        Func<BackupSession, DateTimeOffset, SourceStats, CancellationToken, Task<(Id Tree, Id? Parent)>> save, CancellationToken ct)
    {
        var time = options.Time ?? DateTimeOffset.Now;
        var stats = options.Stats ?? new SourceStats();
        await using var session = await BackupSession.StartAsync(repo, options.Workers, options.Uploads, ct);
        var (tree, parent) = await save(session, time, stats, ct);
        await session.FinishAsync(ct);
        if (options.BeforeSnapshot != null) await options.BeforeSnapshot();
        var snapshot = await session.WriteSnapshotAsync(
            BackupSession.NewSnapshot(tree, paths, time, options.Host, options.Tags, options.Excludes, parent), ct);
        return new BackupResult(snapshot, stats);
    }
}
