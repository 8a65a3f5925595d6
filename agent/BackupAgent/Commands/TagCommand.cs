using BackupAgent.Cli;
using Backups.Core.Locks;
using Backups.Core.Snapshots;

namespace BackupAgent.Commands;

/// <summary>restic's tag: change the tags of the snapshots named, or of those the filter matches.</summary>
public sealed class TagCommand : Command
{
    public override string Name => "tag";
    public override string Usage =>
        "tag [flags] [ID...]: change snapshots' tags (each becomes a new snapshot naming its original)";
    public override IReadOnlyList<Flag> Flags { get; } =
    [
        .. SnapshotFilters,
        Flag.Valued("add", "T[,T...]", "add tags (repeatable)"),
        Flag.Valued("remove", "T[,T...]", "remove tags (repeatable)"),
        Flag.Valued("set", "T[,T...]", "replace the tags ('' removes all; repeatable)"),
    ];

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        var change = Change(args);
        await using var repo = await global.OpenRepositoryAsync(ct);
        await using var held = await RepositoryLock.AcquireAsync(repo, exclusive: true, ct);
        var changed = 0;
        foreach (var snapshot in await SelectSnapshotsAsync(repo, args, args.Positional, output, ct))
        {
            var old = snapshot.Id;
            if (await SnapshotTagger.ChangeAsync(repo, snapshot, change, ct) is not { } id) continue;
            changed++;
            if (!global.Quiet && !output.Json) output.Line($"snapshot {old.Short} is now {id.Short}");
        }
        if (!global.Quiet && !output.Json) output.Line(changed == 0 ? "no snapshots were modified" : $"modified tags on {changed} snapshots");
        return ExitCodes.Ok;
    }

    /// <summary>restic's flags: each value a comma-separated list; --set '' removes every tag.</summary>
    private static TagChange Change(Arguments args)
    {
        List<string> Tags(string flag) => args.Values(flag).SelectMany(v => v.Split(',')).Select(t => t.Trim()).Where(t => t != "").ToList();
        var set = args.Values("set").Count > 0 ? Tags("set") : null;
        var (add, remove) = (Tags("add"), Tags("remove"));
        if (set == null && args.Values("add").Count == 0 && args.Values("remove").Count == 0)
            throw new UsageException("nothing to do: give --add, --remove or --set");
        if (set != null && (args.Values("add").Count > 0 || args.Values("remove").Count > 0))
            throw new UsageException("--set and --add/--remove cannot be given at the same time");
        return new TagChange(set, add, remove);
    }
}
