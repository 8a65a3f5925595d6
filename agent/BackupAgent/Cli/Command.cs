using Backups.Core.Retention;
using Backups.Core.Snapshots;
using Repo = Backups.Core.Repositories.Repository;

namespace BackupAgent.Cli;

/// <summary>One subcommand of backup-agent: its flags and what it does.</summary>
public abstract class Command
{
    public abstract string Name { get; }
    /// <summary>"synopsis: what it does in one line" (help, man page and completion split it at the first ": ").</summary>
    public abstract string Usage { get; }
    /// <summary>The parser's table of flags that take a value (long name to short name), for a command that does not
    /// declare <see cref="Flags"/>.</summary>
    public virtual IReadOnlyDictionary<string, string?> ValueFlags { get; } = new Dictionary<string, string?>();
    /// <summary>Likewise, of the flags that take none.</summary>
    public virtual IReadOnlyDictionary<string, string?> SwitchFlags { get; } = new Dictionary<string, string?>();

    /// <summary>Every flag with its one-line description: what the parser accepts and what help, completion and the man
    /// page show. By default the flags of <see cref="ValueFlags"/> and <see cref="SwitchFlags"/>, undescribed.</summary>
    public virtual IReadOnlyList<Flag> Flags => [.. Flag.FromTables(ValueFlags, SwitchFlags)];

    public abstract Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct);

    /// <summary>restic's filters for which snapshots are meant ("latest" among them).</summary>
    protected static readonly IReadOnlyList<Flag> SnapshotFilters =
    [
        Flag.Valued("host", "HOST", "only snapshots of this host (repeatable)", "H"),
        Flag.Valued("tag", "T[,T...]", "only snapshots with these tags (repeatable: any of the lists)"),
        Flag.Valued("path", "PATH", "only snapshots that include this path (repeatable: all of them)"),
    ];

    /// <summary><see cref="SnapshotFilters"/> as the parser's table.</summary>
    protected static readonly Dictionary<string, string?> SnapshotFilterFlags = Flag.Table(SnapshotFilters, takingValues: true);

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
