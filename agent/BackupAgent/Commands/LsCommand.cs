using System.Text.Json.Nodes;
using BackupAgent.Cli;
using Backups.Core.Restoring;
using Backups.Core.Snapshots;

namespace BackupAgent.Commands;

public sealed class LsCommand : Command
{
    public override string Name => "ls";
    public override string Usage => "ls SNAPSHOT [DIR]: list the files in a snapshot";

    public override IReadOnlyList<Flag> Flags => SnapshotFilters;

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        await using var repo = await global.OpenRepositoryAsync(ct);
        // As restic: a prune (exclusive) must not delete packs under a running read.
        await using var held = await global.ReadLockAsync(repo, ct);
        await repo.LoadIndexAsync(ct);
        var snapshot = await FindSnapshotAsync(repo, args, Positional(args, 0, "snapshot id"), output, ct);
        var dir = args.Positional.Count > 1 ? args.Positional[1].TrimEnd('/') : "";
        if (output.Json)
        {
            var head = SnapshotsCommand.ToJson(snapshot);
            head["struct_type"] = "snapshot";
            output.JsonLine(head);
        }
        else output.Line($"snapshot {snapshot.Id.Short} of [{string.Join(' ', snapshot.Paths)}] at {snapshot.Time.LocalDateTime:yyyy-MM-dd HH:mm:ss}:");

        var root = dir == "" ? snapshot.Tree : (await TreeWalker.FindAsync(repo, snapshot.Tree, dir, ct)).Subtree
            ?? throw new Backups.Core.Repositories.RepositoryException(Backups.Core.Repositories.ErrorKind.NotFound, $"{dir} is not a directory in the snapshot");
        await foreach (var (path, node) in TreeWalker.WalkAsync(repo, root, dir, ct))
        {
            if (!output.Json)
            {
                output.Line(path);
                continue;
            }
            output.JsonLine(new JsonObject
            {
                ["name"] = node.Name, ["type"] = node.Type, ["path"] = path, ["uid"] = node.Uid, ["gid"] = node.Gid,
                ["size"] = node.Size, ["mode"] = node.Mode, ["mtime"] = node.ModTime.ToString(),
                ["atime"] = node.AccessTime.ToString(), ["ctime"] = node.ChangeTime.ToString(), ["struct_type"] = "node",
            });
        }
        return ExitCodes.Ok;
    }
}
