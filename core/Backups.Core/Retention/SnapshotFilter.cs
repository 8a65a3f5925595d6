using Backups.Core.Snapshots;

namespace Backups.Core.Retention;

/// <summary>
/// restic's --host/--tag/--path selection: any of the hosts, any of the tag lists (each needing all its tags),
/// and all of the paths. Empty parts select everything.
/// </summary>
public sealed record SnapshotFilter
{
    public static readonly SnapshotFilter All = new();

    public IReadOnlyList<string> Hosts { get; init; } = [];
    public IReadOnlyList<TagList> Tags { get; init; } = [];
    public IReadOnlyList<string> Paths { get; init; } = [];

    public bool Matches(Snapshot s) =>
        (Hosts.Count == 0 || Hosts.Contains(s.Hostname ?? ""))
        && (Tags.Count == 0 || Tags.Any(t => t.MatchedBy(s.Tags)))
        && Paths.All(s.Paths.Contains);
}
