using System.Text.Json.Nodes;
using BackupAgent.Cli;
using Backups.Core.Json;
using Backups.Core.Snapshots;

namespace BackupAgent.Commands;

/// <summary>restic's snapshots: the snapshots named, or those the filter matches, oldest first; --latest N keeps
/// the newest N of each host and set of paths.</summary>
public sealed class SnapshotsCommand : Command
{
    public override string Name => "snapshots";
    public override string Usage => "snapshots [flags] [ID...]: list snapshots";
    public override IReadOnlyList<Flag> Flags { get; } =
        [.. SnapshotFilters, Flag.Valued("latest", "N", "only the newest N snapshots of each host and set of paths")];

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        var latest = Latest(args);
        await using var repo = await global.OpenRepositoryAsync(ct);
        var snapshots = await SelectSnapshotsAsync(repo, args, args.Positional, output, ct);
        if (latest > 0) snapshots = NewestPerHostAndPaths(snapshots, latest);
        // As restic: paths are listed sorted.
        foreach (var s in snapshots) s.Paths.Sort(StringComparer.Ordinal);
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

    private static int Latest(Arguments args)
    {
        var text = args.Value("latest");
        if (text == null) return 0;
        return int.TryParse(text, out var n) && n >= 0 ? n : throw new UsageException($"--latest needs a whole number of 0 or more, not '{text}'");
    }

    /// <summary>restic's FilterLastestSnapshots: per host and (sorted) paths the newest <paramref name="limit"/>,
    /// listed oldest first.</summary>
    private static List<Snapshot> NewestPerHostAndPaths(List<Snapshot> snapshots, int limit)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var kept = new List<Snapshot>();
        foreach (var s in snapshots.OrderByDescending(s => s.Time))
        {
            var key = (s.Hostname ?? "") + "\0" + string.Join('|', s.Paths.Order(StringComparer.Ordinal));
            var count = seen.GetValueOrDefault(key);
            if (count >= limit) continue;
            seen[key] = count + 1;
            kept.Add(s);
        }
        kept.Reverse();
        return kept;
    }

    /// <summary>restic's JSON for a snapshot: its stored fields (as restic 0.14 prints them: no empty ones, no zero
    /// uid or gid, the time in Go's form) plus id and short_id.</summary>
    public static JsonNode ToJson(Snapshot s)
    {
        var node = SnapshotJson.ToNode(s);
        foreach (var empty in node.Where(p => p.Value == null).Select(p => p.Key).ToList()) node.Remove(empty);
        if (s.Uid == 0) node.Remove("uid");
        if (s.Gid == 0) node.Remove("gid");
        node["time"] = GoTime.Format(s.Time);
        node["id"] = s.Id.ToString();
        node["short_id"] = s.Id.Short;
        return node;
    }
}
