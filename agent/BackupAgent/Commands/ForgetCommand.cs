using System.Text.Json.Nodes;
using BackupAgent.Cli;
using Backups.Core.Retention;
using Backups.Core.Snapshots;

namespace BackupAgent.Commands;

/// <summary>restic's forget: remove snapshots by a retention policy, group by group (restic 0.14's meanings).</summary>
public sealed class ForgetCommand : Command
{
    public override string Name => "forget";
    public override string Usage => "forget [flags] [ID...]: remove the snapshots named, or those a policy does not keep";

    public override IReadOnlyList<Flag> Flags { get; } =
    [
        .. RetentionRule.All.Select(Describe),
        // restic's forget takes --host/--tag/--path without -H: -H is --keep-hourly here.
        .. SnapshotFilters.Select(f => f with { Short = null }),
        Flag.Valued("group-by", "host,paths,tags", "apply the policy to each group of snapshots (default host,paths)", "g"),
        Flag.Switch("dry-run", "only say what would be removed", "n"),
        Flag.Switch("prune", "then remove the data no snapshot uses any more (as prune)"),
        PruneCommand.MaxUnusedFlag,
        Flag.Switch("compact", "list snapshots without their paths", "c"),
    ];

    private static Flag Describe(RetentionRule rule)
    {
        var every = rule.Flag.Split('-')[^1] is var unit and not ("last" or "within" or "tag") ? unit + " " : "";
        return rule.Kind switch
        {
            RetentionRuleKind.TagList => Flag.Valued(rule.Flag, "T[,T...]", "keep snapshots with these tags (repeatable)", rule.ShortFlag),
            RetentionRuleKind.Duration => Flag.Valued(rule.Flag, "DURATION", $"keep the {every}snapshots within DURATION (1y2m3d4h) of the newest", rule.ShortFlag),
            _ => Flag.Valued(rule.Flag, "N", $"keep the last N {every}snapshots (unlimited: all)", rule.ShortFlag),
        };
    }

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        var request = new ForgetRequest(Policy(args), SnapshotGrouping.Parse(args.Value("group-by") ?? "host,paths"), new SnapshotFilter
        {
            Hosts = args.Values("host"),
            Tags = args.Values("tag").Select(TagList.Parse).ToList(),
            Paths = args.Values("path"),
        });
        var dryRun = args.Has("dry-run");
        var pruneOptions = args.Has("prune") ? PruneCommand.Options(args, dryRun) : null;
        await using var repo = await global.OpenRepositoryAsync(ct);
        if (args.Positional.Count > 0)
        {
            // As restic: named snapshots go regardless of any policy, and --json prints nothing for them.
            var named = await Forgetter.ForgetSnapshotsAsync(repo, args.Positional, dryRun, ct);
            if (!output.Json) foreach (var s in named) output.Info($"{(dryRun ? "would remove" : "removed")} snapshot {s.Id.Short}");
            return ExitCodes.Ok;
        }
        var (plan, pruned) = await Forgetter.ForgetAsync(repo, request, dryRun, pruneOptions, ct);

        if (output.Json)
        {
            // As restic: no groups (empty policy, no snapshots) print nothing at all.
            if (plan.Groups.Count > 0) output.JsonLine(new JsonArray([.. plan.Groups.Select(GroupJson)]));
            return ExitCodes.Ok;
        }
        if (request.Policy.IsEmpty)
        {
            output.Info("no policy was specified, no snapshots will be removed");
            return ExitCodes.Ok;
        }
        output.Info($"Applying Policy: {request.Policy}");
        if (!global.Quiet)
            foreach (var g in plan.Groups) PrintGroup(output, g, args.Has("compact"));
        var forgotten = plan.Removed.Select(s => s.Id.Short).ToList();
        if (forgotten.Count > 0)
            output.Info(dryRun
                ? $"Would have removed the following snapshots:\n{{{string.Join(' ', forgotten)}}}\n"
                : $"removed {forgotten.Count} snapshots");
        if (pruned != null) PruneCommand.Report(pruned, output);
        return ExitCodes.Ok;
    }

    /// <summary>Every --keep-* flag, in restic's meaning; a repeated one takes its last value (--keep-tag adds each).</summary>
    private static RetentionPolicy Policy(Arguments args) =>
        RetentionRule.All.Aggregate(new RetentionPolicy(), (policy, rule) =>
            args.Values(rule.Flag).Aggregate(policy, (p, text) => rule.Apply(p, text, $"--{rule.Flag}")));

    /// <summary>restic's JSON for a group: tags, host, paths, keep, remove, reasons (empty lists as null, as Go writes them).</summary>
    private static JsonObject GroupJson(GroupPlan g) => new()
    {
        ["tags"] = Strings(g.Key.Tags),
        ["host"] = g.Key.Host,
        ["paths"] = Strings(g.Key.Paths),
        ["keep"] = g.Keep.Count > 0 ? new JsonArray([.. g.Keep.Select(SnapshotsCommand.ToJson)]) : null,
        ["remove"] = g.Remove.Count > 0 ? new JsonArray([.. g.Remove.Select(SnapshotsCommand.ToJson)]) : null,
        ["reasons"] = g.Reasons.Count > 0 ? new JsonArray([.. g.Reasons.Select(ReasonJson)]) : null,
    };

    private static JsonArray? Strings(IReadOnlyList<string>? list) => list == null ? null : new JsonArray([.. list.Select(s => (JsonNode?)s)]);

    private static JsonObject ReasonJson(KeepReason r)
    {
        var counters = new JsonObject();
        foreach (var (name, n) in new[] { ("last", r.Counters.Last), ("hourly", r.Counters.Hourly), ("daily", r.Counters.Daily),
                     ("weekly", r.Counters.Weekly), ("monthly", r.Counters.Monthly), ("yearly", r.Counters.Yearly) })
            if (n != 0) counters[name] = n;
        return new JsonObject
        {
            ["snapshot"] = SnapshotJson.ToNode(r.Snapshot),
            ["matches"] = new JsonArray([.. r.Matches.Select(m => (JsonNode?)m)]),
            ["counters"] = counters,
        };
    }

    private static void PrintGroup(Output output, GroupPlan g, bool compact)
    {
        var key = g.Key.ToString();
        if (key != "") output.Info($"snapshots for ({key}):");
        var reasons = g.Reasons.ToDictionary(r => r.Snapshot.Id, r => string.Join(", ", r.Matches));
        PrintTable(output, $"keep {g.Keep.Count} snapshots:", g.Keep, reasons, compact);
        PrintTable(output, $"remove {g.Remove.Count} snapshots:", g.Remove, null, compact);
    }

    private static void PrintTable(Output output, string title, IReadOnlyList<Snapshot> snapshots, Dictionary<Backups.Core.Id, string>? reasons, bool compact)
    {
        if (snapshots.Count == 0) return;
        output.Info(title);
        var header = $"{"ID",-9} {"Time",-19}  {"Host",-12} {"Tags",-16}";
        if (reasons != null) header += $" {"Reasons",-24}";
        output.Info(compact ? header : header + " Paths");
        output.Info(new string('-', 100));
        foreach (var s in snapshots)
        {
            var line = $"{s.Id.Short,-9} {s.Time.LocalDateTime:yyyy-MM-dd HH:mm:ss}  {s.Hostname,-12} {string.Join(',', s.Tags ?? []),-16}";
            if (reasons != null) line += $" {reasons[s.Id],-24}";
            output.Info(compact ? line : line + " " + string.Join(' ', s.Paths));
        }
        output.Info(new string('-', 100));
        output.Info($"{snapshots.Count} snapshots\n");
    }
}
