using Backups.Core.Retention;

namespace Backups.Functions.Contracts;

/// <summary>What Retention applies: restic's forget policy per source, then (by default) a prune.</summary>
public sealed record RetentionInput
{
    /// <summary>The global policy: restic's --keep-* rules (<see cref="RetentionPolicyJson"/>: keepLast ... keepYearly
    /// as counts or "unlimited", keepWithin and keepWithinHourly ... keepWithinYearly as "1y2m3d4h", keepTags).</summary>
    public required RetentionPolicy Policy { get; init; }

    /// <summary>The agent's per-source and per-tag policies (<c>"sourcePolicies.$": "$.backup.retention"</c>: its run
    /// config's); sources without one take <see cref="Policy"/>.</summary>
    public SourcePolicies? SourcePolicies { get; init; }

    /// <summary>restic's --group-by within each source (default "host,paths").</summary>
    public string? GroupBy { get; init; }

    /// <summary>Prune after forgetting (default true), as restic's forget --prune.</summary>
    public bool? Prune { get; init; }

    /// <summary>restic's --max-unused: "5%" (default), "200M", "unlimited".</summary>
    public string? MaxUnused { get; init; }

    /// <summary>Plan only: nothing is removed.</summary>
    public bool? DryRun { get; init; }
}

/// <summary>One source's snapshots under one policy (<paramref name="Source"/> null: untagged snapshots; <paramref name="Tag"/>:
/// the tag whose policy it is, e.g. pre-deploy).</summary>
public sealed record RetentionScopeResult(string Policy, int Kept, int Removed, string? Source = null, string? Tag = null);

/// <param name="Policy">The global policy in restic's words ("keep 7 daily, 4 weekly, 3 monthly snapshots").</param>
/// <param name="Scopes">Per source (and tag with its own policy): its policy and how many snapshots it kept and removed.</param>
/// <param name="Kept">Ids of the snapshots kept.</param>
/// <param name="Removed">Ids of the snapshots forgotten.</param>
/// <param name="PacksDeleted">Packs deleted (in a dry run: packs that would be deleted).</param>
/// <param name="BytesFreed">Pack bytes deleted less pack bytes written by repacking.</param>
/// <param name="PacksRetained">Packs the store would not delete yet (Object Lock retention): a later prune does.</param>
public sealed record RetentionResult(
    string Policy,
    bool DryRun,
    IReadOnlyList<string> Kept,
    IReadOnlyList<string> Removed,
    bool Pruned,
    int PacksDeleted,
    int PacksRepacked,
    long BytesFreed,
    int IndexFilesWritten,
    int IndexFilesRemoved,
    IReadOnlyList<string> PacksRetained,
    IReadOnlyList<RetentionScopeResult> Scopes);
