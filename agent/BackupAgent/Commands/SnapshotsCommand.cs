using System.Text.Json;
using System.Text.Json.Nodes;
using BackupAgent.Cli;
using Backups.Core.Snapshots;

namespace BackupAgent.Commands;

public sealed class SnapshotsCommand : Command
{
    public override string Name => "snapshots";
    public override string Usage => "snapshots [--host H] [--tag T] [--path P]: list snapshots";
    public override IReadOnlyDictionary<string, string?> ValueFlags { get; } = SnapshotFilterFlags;

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        await using var repo = await global.OpenRepositoryAsync(ct);
        var host = args.Value("host");
        var tags = Tags.Parse(args.Values("tag"));
        var paths = args.Values("path");
        var snapshots = (await repo.LoadSnapshotsAsync(output.SkippedSnapshot, ct))
            .Where(s => (host == null || s.Hostname == host)
                        && tags.All(t => s.Tags?.Contains(t) == true)
                        && paths.All(s.Paths.Contains)).ToList();
        if (output.Json)
        {
            output.JsonLine(new JsonArray([.. snapshots.Select(ToJson)]));
            return ExitCodes.Ok;
        }
        output.Line($"{"ID",-9} {"Time",-19}  {"Host",-12} {"Tags",-16} Paths");
        output.Line(new string('-', 72));
        foreach (var s in snapshots)
            output.Line($"{s.Id.Short,-9} {s.Time.LocalDateTime:yyyy-MM-dd HH:mm:ss}  {s.Hostname,-12} {string.Join(',', s.Tags ?? []),-16} {string.Join(' ', s.Paths)}");
        output.Line(new string('-', 72));
        output.Line($"{snapshots.Count} snapshots");
        return ExitCodes.Ok;
    }

    /// <summary>restic's JSON for a snapshot: its stored fields plus id and short_id.</summary>
    public static JsonNode ToJson(Snapshot s)
    {
        var node = SnapshotJson.ToNode(s);
        node["id"] = s.Id.ToString();
        node["short_id"] = s.Id.Short;
        return node;
    }
}
