using BackupAgent.Cli;
using Backups.Core.Filtering;
using Backups.Core.Restoring;
using Backups.Core.Snapshots;

namespace BackupAgent.Commands;

public sealed class RestoreCommand : Command
{
    public override string Name => "restore";
    public override string Usage => "restore SNAPSHOT --target DIR [flags]: restore a snapshot into a directory";
    public override IReadOnlyList<Flag> Flags { get; } =
    [
        .. SnapshotFilters,
        Flag.Valued("target", "DIR", "the directory to restore into", "t"),
        Flag.Valued("include", "PATTERN", "restore only what matches PATTERN (repeatable)", "i"),
        Flag.Valued("exclude", "PATTERN", "leave out what matches PATTERN (repeatable)", "e"),
        Flag.Switch("verify", "read the restored files back and compare them with the snapshot"),
    ];

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        var what = Positional(args, 0, "snapshot id");
        var target = args.Value("target") ?? throw new UsageException("restore needs --target DIR");
        // As restic 0.14: one restore either picks what it wants or what it leaves out.
        if (args.Values("include").Count > 0 && args.Values("exclude").Count > 0)
            throw new UsageException("--include and --exclude cannot be used together");
        var options = new RestoreOptions
        {
            Include = Patterns(args.Values("include"), "include"),
            Exclude = Patterns(args.Values("exclude"), "exclude"),
            Verify = args.Has("verify"),
        };
        await using var repo = await global.OpenRepositoryAsync(ct);
        // As restic: a prune (exclusive) must not delete packs under a running read.
        var (held, (snapshot, restorer)) = await SettlingReadLock.WorkWhileSettlingAsync(await global.BeginReadLockAsync(repo, ct), async token =>
        {
            await repo.LoadIndexAsync(token);
            var snapshot = await FindSnapshotAsync(repo, args, what, output, token);
            var restorer = new Restorer(repo, options);
            var started = System.Diagnostics.Stopwatch.StartNew();
            await using (await output.ProgressAsync(() => ProgressLine.Status(started.Elapsed, restorer.Files, restorer.Bytes, null)))
                await restorer.RestoreAsync(snapshot.Tree, target, token);
            return (snapshot, restorer);
        }, ct);
        await using var _ = held;
        if (!output.Json) output.Info($"restored snapshot {snapshot.Id.Short} to {Path.GetFullPath(target)}: {restorer.Files} files, {Size.Format(restorer.Bytes)}");
        return ExitCodes.Ok;
    }

    private static List<PathPattern> Patterns(IReadOnlyList<string> values, string flag)
    {
        try
        {
            return [.. values.Select(v => new PathPattern(v))];
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--{flag}: {e.Message}");
        }
    }
}
