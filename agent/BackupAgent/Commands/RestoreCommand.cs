using BackupAgent.Cli;
using Backups.Core.Restoring;
using Backups.Core.Snapshots;

namespace BackupAgent.Commands;

public sealed class RestoreCommand : Command
{
    public override string Name => "restore";
    public override string Usage => "restore SNAPSHOT --target DIR: restore a snapshot into a directory";
    public override IReadOnlyDictionary<string, string?> ValueFlags { get; } = new Dictionary<string, string?>(SnapshotFilterFlags) { ["target"] = "t" };

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        var what = Positional(args, 0, "snapshot id");
        var target = args.Value("target") ?? throw new UsageException("restore needs --target DIR");
        await using var repo = await global.OpenRepositoryAsync(ct);
        // As restic: a prune (exclusive) must not delete packs under a running read.
        await using var held = await global.ReadLockAsync(repo, ct);
        await repo.LoadIndexAsync(ct);
        var snapshot = await FindSnapshotAsync(repo, args, what, output, ct);
        var restorer = new Restorer(repo);
        await restorer.RestoreAsync(snapshot.Tree, target, ct);
        if (!output.Json) output.Line($"restored snapshot {snapshot.Id.Short} to {Path.GetFullPath(target)}: {restorer.Files} files, {Size.Format(restorer.Bytes)}");
        return ExitCodes.Ok;
    }
}
