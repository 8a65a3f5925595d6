using System.Text.Json.Nodes;
using BackupAgent.Cli;
using Backups.Core.Inspecting;

namespace BackupAgent.Commands;

/// <summary>restic's stats: sizes and counts of the chosen snapshots (all by default) in one of its four modes.</summary>
public sealed class StatsCommand : Command
{
    public override string Name => "stats";
    public override string Usage => "stats [flags] [ID...]: count files and bytes of snapshots (default: all)";
    public override IReadOnlyList<Flag> Flags { get; } =
        [.. SnapshotFilters, Flag.Valued("mode", "MODE", $"what to count: {string.Join(", ", StatsModes.Names)} (default restore-size)")];

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        var modeText = args.Value("mode") ?? "restore-size";
        var mode = StatsModes.Parse(modeText)
                   ?? throw new UsageException($"unknown counting mode '{modeText}' (one of {string.Join(", ", StatsModes.Names)})");
        await using var repo = await global.OpenRepositoryAsync(ct);
        await using var held = await global.ReadLockAsync(repo, ct);
        var snapshots = await SelectSnapshotsAsync(repo, args, args.Positional, output, ct);
        await repo.LoadIndexAsync(ct);
        if (!output.Json && !global.Quiet) output.Line("scanning...");
        var counter = new StatsCounter(repo, mode);
        foreach (var snapshot in snapshots) await counter.AddAsync(snapshot, ct);
        var stats = counter.Result();
        if (output.Json)
        {
            var json = new JsonObject { ["total_size"] = stats.TotalSize, ["total_file_count"] = stats.TotalFileCount };
            if (stats.TotalBlobCount > 0) json["total_blob_count"] = stats.TotalBlobCount;
            json["snapshots_count"] = stats.SnapshotsCount;
            output.JsonLine(json);
            return ExitCodes.Ok;
        }
        output.Line($"Stats in {StatsModes.Name(mode)} mode:");
        output.Line($"Snapshots processed:   {stats.SnapshotsCount}");
        if (stats.TotalBlobCount > 0) output.Line($"   Total Blob Count:   {stats.TotalBlobCount}");
        if (stats.TotalFileCount > 0) output.Line($"   Total File Count:   {stats.TotalFileCount}");
        output.Line($"         Total Size:   {Size.Format((long)stats.TotalSize),-5}");
        return ExitCodes.Ok;
    }
}
