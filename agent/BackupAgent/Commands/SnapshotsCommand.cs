using System.Text.Json.Nodes;
using BackupAgent.Cli;
using Backups.Core.Json;
using Backups.Core.Retention;
using Backups.Core.Snapshots;

namespace BackupAgent.Commands;

/// <summary>restic's snapshots: the snapshots named, or those the filter matches, oldest first; --latest N keeps
/// the newest N of each host and set of paths; --group-by lists them group by group, as restic does.</summary>
public sealed class SnapshotsCommand : Command
{
    public override string Name => "snapshots";
    public override string Usage => "snapshots [flags] [ID...]: list snapshots";
    public override IReadOnlyList<Flag> Flags { get; } =
    [
        .. SnapshotFilters,
        Flag.Valued("latest", "N", "only the newest N snapshots of each host and set of paths"),
        Flag.Valued("group-by", "host,paths,tags", "list the snapshots in groups of the same host, paths and/or tags", "g"),
        Flag.Switch("compact", "one line per snapshot: no paths, tags one a line", "c"),
    ];

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        var latest = Latest(args);
        var grouping = SnapshotGrouping.Parse(args.Value("group-by") ?? "");
        var grouped = grouping.Host || grouping.Paths || grouping.Tags;
        await using var repo = await global.OpenRepositoryAsync(ct);
        var snapshots = await SelectSnapshotsAsync(repo, args, args.Positional, output, ct);
        // As restic: paths are listed sorted.
        foreach (var s in snapshots) s.Paths.Sort(StringComparer.Ordinal);
        // As restic, whose grouping by tags sorts each snapshot's own tags.
        if (grouping.Tags) foreach (var s in snapshots) s.Tags?.Sort(StringComparer.Ordinal);
        var groups = grouping.Group(snapshots)
            .Select(g => (g.Key, Snapshots: latest > 0 ? NewestPerHostAndPaths(g.Snapshots, latest) : g.Snapshots))
            .ToList();
        if (output.Json)
        {
            output.JsonLine(grouped
                ? new JsonArray([.. groups.Select(g => (JsonNode)new JsonObject
                {
                    ["group_key"] = KeyJson(g.Key),
                    ["snapshots"] = new JsonArray([.. g.Snapshots.Select(ToJson)]),
                })])
                : new JsonArray([.. groups.SelectMany(g => g.Snapshots).Select(ToJson)]));
            return ExitCodes.Ok;
        }
        foreach (var (key, list) in groups)
        {
            if (grouped && key.ToString() is { Length: > 0 } heading) output.Line($"snapshots for ({heading}):");
            output.Line(Table(list, args.Has("compact")));
        }
        return ExitCodes.Ok;
    }

    /// <summary>restic's table: ID, time, host, tags and paths (several paths: a blank line between snapshots);
    /// compact: no paths, and the tags one a line.</summary>
    private static string Table(List<Snapshot> snapshots, bool compact)
    {
        var table = compact ? new TextTable("ID", "Time", "Host", "Tags  ") : new TextTable("ID", "Time", "Host      ", "Tags      ", "Paths");
        foreach (var s in snapshots.OrderBy(s => s.Time))
        {
            var time = s.Time.LocalDateTime.ToString("yyyy-MM-dd HH:mm:ss");
            var tags = s.Tags ?? [];
            if (compact) table.Add(s.Id.Short, time, s.Hostname ?? "", string.Join('\n', tags));
            else table.Add(s.Id.Short, time, s.Hostname ?? "", string.Join(',', tags), string.Join('\n', s.Paths));
        }
        table.BlankLineBetweenRows = !compact && snapshots.Any(s => s.Paths.Count > 1);
        return table.Render($"{snapshots.Count} snapshots")[..^1];
    }

    /// <summary>restic's group_key: what the group shares, null where it is not grouped by (host "").</summary>
    private static JsonObject KeyJson(SnapshotGroupKey key) => new()
    {
        ["hostname"] = key.Host,
        ["paths"] = Strings(key.Paths),
        ["tags"] = Strings(key.Tags),
    };

    private static JsonArray? Strings(IReadOnlyList<string>? list) => list == null ? null : new JsonArray([.. list.Select(s => (JsonNode?)s)]);

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
