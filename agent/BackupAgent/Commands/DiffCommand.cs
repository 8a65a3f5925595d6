using System.Text.Json.Nodes;
using BackupAgent.Cli;
using Backups.Core.Inspecting;

namespace BackupAgent.Commands;

/// <summary>restic's diff: what changed from the first snapshot to the second, path by path, and in sum.</summary>
public sealed class DiffCommand : Command
{
    public override string Name => "diff";
    public override string Usage => "diff ID1 ID2 [--metadata]: show what changed between two snapshots (+ added, - removed, M content, T type, U metadata)";
    public override IReadOnlyList<Flag> Flags { get; } = [Flag.Switch("metadata", "also show files whose metadata alone changed")];

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        if (args.Positional.Count != 2) throw new UsageException("diff needs two snapshot ids");
        await using var repo = await global.OpenRepositoryAsync(ct);
        await using var held = await global.ReadLockAsync(repo, ct);
        var first = await FindSnapshotAsync(repo, args, args.Positional[0], output, ct);
        var second = await FindSnapshotAsync(repo, args, args.Positional[1], output, ct);
        if (!output.Json && !global.Quiet) output.Line($"comparing snapshot {first.Id.Short} to {second.Id.Short}:\n");
        await repo.LoadIndexAsync(ct);
        Action<DiffChange> report = global.Quiet ? _ => { }
            : output.Json ? c => output.JsonLine(new JsonObject { ["message_type"] = "change", ["path"] = c.Path, ["modifier"] = c.Modifier })
            : c => output.Line($"{c.Modifier,-5}{c.Path}");
        var stats = await new SnapshotDiff(repo, args.Has("metadata"), report).CompareAsync(first.Tree, second.Tree, ct);
        if (output.Json)
        {
            output.JsonLine(new JsonObject
            {
                ["message_type"] = "statistics", ["source_snapshot"] = args.Positional[0], ["target_snapshot"] = args.Positional[1],
                ["changed_files"] = stats.ChangedFiles, ["added"] = SideJson(stats.Added), ["removed"] = SideJson(stats.Removed),
            });
            return ExitCodes.Ok;
        }
        output.Line("");
        output.Line($"Files:       {stats.Added.Files,5} new, {stats.Removed.Files,5} removed, {stats.ChangedFiles,5} changed");
        output.Line($"Dirs:        {stats.Added.Dirs,5} new, {stats.Removed.Dirs,5} removed");
        output.Line($"Others:      {stats.Added.Others,5} new, {stats.Removed.Others,5} removed");
        output.Line($"Data Blobs:  {stats.Added.DataBlobs,5} new, {stats.Removed.DataBlobs,5} removed");
        output.Line($"Tree Blobs:  {stats.Added.TreeBlobs,5} new, {stats.Removed.TreeBlobs,5} removed");
        output.Line($"  Added:   {Size.Format((long)stats.Added.Bytes),-5}");
        output.Line($"  Removed: {Size.Format((long)stats.Removed.Bytes),-5}");
        return ExitCodes.Ok;
    }

    private static JsonObject SideJson(DiffSide s) => new()
    {
        ["files"] = s.Files, ["dirs"] = s.Dirs, ["others"] = s.Others,
        ["data_blobs"] = s.DataBlobs, ["tree_blobs"] = s.TreeBlobs, ["bytes"] = s.Bytes,
    };
}
