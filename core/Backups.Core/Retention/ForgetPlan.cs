using Backups.Core.Pruning;
using Backups.Core.Snapshots;

namespace Backups.Core.Retention;

/// <summary>The rules' counters left after a kept snapshot (restic's "counters" in its JSON).</summary>
public readonly record struct RemainingCounts(int Last, int Hourly, int Daily, int Weekly, int Monthly, int Yearly);

/// <summary>Why a snapshot is kept: restic's words ("daily snapshot", "within 1m", "has tags [a]").</summary>
public sealed record KeepReason(Snapshot Snapshot, IReadOnlyList<string> Matches, RemainingCounts Counters);

/// <summary>One group's decision, newest first in both lists; <see cref="Reasons"/> parallels <see cref="Keep"/>.
/// <see cref="Scope"/> is the source and policy the group belongs to when policies are per source.</summary>
public sealed record GroupPlan(SnapshotGroupKey Key, IReadOnlyList<Snapshot> Keep, IReadOnlyList<Snapshot> Remove, IReadOnlyList<KeepReason> Reasons,
    RetentionScope? Scope = null);

/// <summary>What forget keeps and removes, group by group. No groups when the policy is empty (nothing is removed).</summary>
public sealed record ForgetPlan(IReadOnlyList<GroupPlan> Groups)
{
    public IEnumerable<Snapshot> Removed => Groups.SelectMany(g => g.Remove);
    public IEnumerable<Snapshot> Kept => Groups.SelectMany(g => g.Keep);
}

/// <summary>
/// Everything that decides a plan: which snapshots are considered, how they are grouped, what is kept. With
/// <see cref="BySource"/>, <see cref="Policy"/> is the global one and each source is planned on its own.
/// </summary>
public sealed record ForgetRequest(RetentionPolicy Policy, SnapshotGrouping Grouping, SnapshotFilter Filter)
{
    public ForgetRequest(RetentionPolicy policy) : this(policy, SnapshotGrouping.Default, SnapshotFilter.All) { }

    public SourcePolicies? BySource { get; init; }

    public ForgetRequest Validated()
    {
        Policy.Validated();
        BySource?.Validated();
        return this;
    }
}

/// <summary>What forget did, and what the prune after it did (null when none ran).</summary>
public sealed record ForgetOutcome(ForgetPlan Plan, PruneStats? Pruned);
