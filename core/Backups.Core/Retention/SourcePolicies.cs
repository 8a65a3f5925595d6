using Backups.Core.Snapshots;

namespace Backups.Core.Retention;

/// <summary>
/// Retention per kind of data, as the Retention step applies it: a snapshot carrying one of <see cref="Tags"/>'
/// tags (e.g. pre-deploy) is kept by that tag's policy, otherwise by its source's policy in <see cref="Sources"/>
/// (its source is <see cref="SnapshotSource"/>'s), otherwise by the global policy. The snapshots of each source
/// under each policy are planned on their own, as restic's `forget --tag SOURCE` plans them, so a pre-deploy
/// snapshot never takes a nightly one's place as the day's or the month's.
/// </summary>
public sealed record SourcePolicies
{
    public static readonly SourcePolicies None = new();

    public IReadOnlyDictionary<string, RetentionPolicy> Sources { get; init; } = new Dictionary<string, RetentionPolicy>();
    public IReadOnlyDictionary<string, RetentionPolicy> Tags { get; init; } = new Dictionary<string, RetentionPolicy>();

    public RetentionScope ScopeOf(Snapshot snapshot, RetentionPolicy global)
    {
        var source = SnapshotSource.Of(snapshot);
        var tag = snapshot.Tags?.FirstOrDefault(Tags.ContainsKey);
        if (tag != null) return new RetentionScope(source, tag, Tags[tag]);
        return new RetentionScope(source, null, source != null && Sources.TryGetValue(source, out var own) ? own : global);
    }

    public SourcePolicies Validated()
    {
        foreach (var policy in Sources.Values.Concat(Tags.Values)) policy.Validated();
        return this;
    }
}

/// <summary>The snapshots one policy governs: a source's (null: untagged ones), those with <see cref="Tag"/> if set.</summary>
public sealed record RetentionScope(string? Source, string? Tag, RetentionPolicy Policy);
