using Backups.Core.Snapshots;

namespace Backups.Functions.Repositories;

/// <summary>
/// A repository's snapshots by source. The nightly run tags every snapshot with its source's name first
/// (then any extra tags), so a snapshot's source is its first tag; untagged snapshots belong to no source.
/// </summary>
public sealed class SourceHistory(IReadOnlyList<Snapshot> snapshots)
{
    private readonly ILookup<string, Snapshot> _bySource = snapshots
        .Where(s => s.Tags is { Count: > 0 })
        .OrderBy(s => s.Time)
        .ToLookup(s => s.Tags![0], StringComparer.Ordinal);

    public IReadOnlyList<Snapshot> Snapshots { get; } = snapshots;

    public IEnumerable<string> Sources => _bySource.Select(g => g.Key).Order(StringComparer.Ordinal);

    public Snapshot? Latest(string source) => _bySource[source].LastOrDefault();

    public Snapshot? LatestBefore(string source, DateTimeOffset time) => _bySource[source].LastOrDefault(s => s.Time < time);
}
