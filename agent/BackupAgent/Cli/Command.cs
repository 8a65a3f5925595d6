using Backups.Core.Retention;
using Backups.Core.Snapshots;
using Repo = Backups.Core.Repositories.Repository;

namespace BackupAgent.Cli;

/// <summary>One subcommand of backup-agent: its flags and what it does.</summary>
public abstract class Command
{
    public abstract string Name { get; }
    public abstract string Usage { get; }
    public virtual IReadOnlyDictionary<string, string?> ValueFlags { get; } = new Dictionary<string, string?>();
    public virtual IReadOnlyDictionary<string, string?> SwitchFlags { get; } = new Dictionary<string, string?>();

    public abstract Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct);

    /// <summary>restic's filters for which snapshot "latest" means.</summary>
    protected static readonly Dictionary<string, string?> SnapshotFilterFlags = new() { ["host"] = "H", ["tag"] = null, ["path"] = null };

    /// <summary>restic's --host/--tag/--path selection: any host, any tag list (a,b needs both), every path.</summary>
    protected static SnapshotFilter Filter(Arguments args) => new()
    {
        Hosts = args.Values("host"),
        Tags = args.Values("tag").Select(TagList.Parse).ToList(),
        Paths = args.Values("path"),
    };

    /// <summary>The snapshots named (ids, prefixes, "latest") or, when none are, every one the filter matches.</summary>
    protected static Task<List<Snapshot>> SelectSnapshotsAsync(Repo repo, Arguments args, IReadOnlyList<string> names, Output output, CancellationToken ct) =>
        SnapshotSelection.FindAsync(repo, Filter(args), names, output.SkippedSnapshot, ct);

    protected static Task<Snapshot> FindSnapshotAsync(Repo repo, Arguments args, string what, Output output, CancellationToken ct) =>
        SnapshotFinder.FindAsync(repo, what, args.Value("host"), Tags.Parse(args.Values("tag")), args.Values("path"), output.SkippedSnapshot, ct);

    protected static string Positional(Arguments args, int index, string what) =>
        index < args.Positional.Count ? args.Positional[index] : throw new UsageException($"missing {what}");
}
