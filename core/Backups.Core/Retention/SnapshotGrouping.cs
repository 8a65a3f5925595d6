using Backups.Core.Repositories;
using Backups.Core.Snapshots;

namespace Backups.Core.Retention;

/// <summary>What a group of snapshots shares; a part not grouped by is null (host "").</summary>
public sealed record SnapshotGroupKey(string Host, IReadOnlyList<string>? Paths, IReadOnlyList<string>? Tags)
{
    public bool Equals(SnapshotGroupKey? other) =>
        other != null && Host == other.Host && SameList(Paths, other.Paths) && SameList(Tags, other.Tags);

    public override int GetHashCode() => HashCode.Combine(Host, string.Join('\0', Paths ?? []), string.Join('\0', Tags ?? []));

    private static bool SameList(IReadOnlyList<string>? a, IReadOnlyList<string>? b) =>
        a == null || b == null ? a == b : a.SequenceEqual(b);

    /// <summary>As restic heads a group ("host [db1], tags [a, b], paths [/srv]"); "" for the one group of no grouping.</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        if (Host != "") parts.Add($"host [{Host}]");
        if (Tags != null) parts.Add($"tags [{string.Join(", ", Tags)}]");
        if (Paths != null) parts.Add($"paths [{string.Join(", ", Paths)}]");
        return string.Join(", ", parts);
    }
}

/// <summary>
/// restic's --group-by: any of host, paths, tags (singular forms too), comma separated; "" puts all snapshots
/// in one group. Paths and tags are compared sorted, so ["/b","/a"] and ["/a","/b"] share a group.
/// </summary>
public sealed record SnapshotGrouping(bool Host, bool Paths, bool Tags)
{
    public static readonly SnapshotGrouping Default = new(Host: true, Paths: true, Tags: false);

    public static SnapshotGrouping Parse(string text)
    {
        var g = new SnapshotGrouping(false, false, false);
        foreach (var option in text.Split(','))
        {
            g = option switch
            {
                "host" or "hosts" => g with { Host = true },
                "path" or "paths" => g with { Paths = true },
                "tag" or "tags" => g with { Tags = true },
                "" => g,
                _ => throw new RepositoryException(ErrorKind.InvalidArgument, $"unknown grouping option: '{option}' (use host, paths and/or tags)"),
            };
        }
        return g;
    }

    public SnapshotGroupKey KeyOf(Snapshot s) => new(
        Host ? s.Hostname ?? "" : "",
        Paths ? s.Paths.Order(StringComparer.Ordinal).ToList() : null,
        Tags && s.Tags != null ? s.Tags.Order(StringComparer.Ordinal).ToList() : null);

    /// <summary>The groups in a stable order (by key), each keeping the order of <paramref name="snapshots"/>.</summary>
    public IReadOnlyList<(SnapshotGroupKey Key, List<Snapshot> Snapshots)> Group(IEnumerable<Snapshot> snapshots)
    {
        var groups = new Dictionary<SnapshotGroupKey, List<Snapshot>>();
        foreach (var s in snapshots)
        {
            var key = KeyOf(s);
            if (!groups.TryGetValue(key, out var list)) groups[key] = list = [];
            list.Add(s);
        }
        return groups.OrderBy(g => g.Key.ToString(), StringComparer.Ordinal).Select(g => (g.Key, g.Value)).ToList();
    }
}
