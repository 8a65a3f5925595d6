using Backups.Core.Snapshots;

namespace Backups.Functions.Repositories;

/// <summary>A repository's snapshots by source (<see cref="SnapshotSource"/>); untagged snapshots belong to no source.</summary>
public sealed class SourceHistory(IReadOnlyList<Snapshot> snapshots)
{
    private readonly ILookup<string, Snapshot> _bySource = snapshots
        .Where(s => SnapshotSource.Of(s) != null)
        .OrderBy(s => s.Time)
        .ToLookup(s => SnapshotSource.Of(s)!, StringComparer.Ordinal);

    public IReadOnlyList<Snapshot> Snapshots { get; } = snapshots;

    public IEnumerable<string> Sources => _bySource.Select(g => g.Key).Order(StringComparer.Ordinal);

    public Snapshot? Latest(string source) => _bySource[source].LastOrDefault();

    public Snapshot? LatestBefore(string source, DateTimeOffset time) => _bySource[source].LastOrDefault(s => s.Time < time);
}
