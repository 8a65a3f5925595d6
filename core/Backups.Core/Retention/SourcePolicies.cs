using Backups.Core.Repositories;
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
    // Before None, which static initialization builds from it.
    private static readonly IReadOnlyDictionary<string, RetentionPolicy> NoPolicies = new Dictionary<string, RetentionPolicy>();

    public static readonly SourcePolicies None = new();

    // A member left out of the JSON arrives as null (the source generator sets every init-only property).
    public IReadOnlyDictionary<string, RetentionPolicy> Sources { get; init => field = value ?? NoPolicies; } = NoPolicies;
    public IReadOnlyDictionary<string, RetentionPolicy> Tags { get; init => field = value ?? NoPolicies; } = NoPolicies;

    public RetentionScope ScopeOf(Snapshot snapshot, RetentionPolicy global)
    {
        var source = SnapshotSource.Of(snapshot);
        var tag = snapshot.Tags?.FirstOrDefault(Tags.ContainsKey);
        if (tag != null) return new RetentionScope(source, tag, Tags[tag]);
        return new RetentionScope(source, null, source != null && Sources.TryGetValue(source, out var own) ? own : global);
    }

    /// <summary>Each policy valid and not empty: one that keeps everything says so (<see cref="RetentionPolicy.KeepAll"/>).</summary>
    public SourcePolicies Validated()
    {
        foreach (var (name, policy) in Sources.Select(s => ($"source {s.Key}", s.Value)).Concat(Tags.Select(t => ($"tag {t.Key}", t.Value))))
            if (policy.Validated().IsEmpty)
                throw new RepositoryException(ErrorKind.InvalidArgument, $"the policy of {name} is empty: set a keep rule, or keep all");
        return this;
    }
}

/// <summary>The snapshots one policy governs: a source's (null: untagged ones), those with <see cref="Tag"/> if set.
/// <see cref="Rule"/> says what keeps them, in words.</summary>
public sealed record RetentionScope(string? Source, string? Tag, RetentionPolicy Policy)
{
    public string Rule { get; init; } = Policy.ToString();
}
