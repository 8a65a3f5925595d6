namespace Backups.Functions.Contracts;

/// <summary>What Retention applies: restic's forget policy, then (by default) a prune.</summary>
public sealed record RetentionInput
{
    public required RetentionPolicyInput Policy { get; init; }

    /// <summary>restic's --group-by (default "host,paths": each of the agent's sources has its own path).</summary>
    public string? GroupBy { get; init; }

    /// <summary>Prune after forgetting (default true), as restic's forget --prune.</summary>
    public bool? Prune { get; init; }

    /// <summary>restic's --max-unused: "5%" (default), "200M", "unlimited".</summary>
    public string? MaxUnused { get; init; }

    /// <summary>Plan only: nothing is removed.</summary>
    public bool? DryRun { get; init; }
}

/// <summary>restic's --keep-* flags; <c>keepWithin</c> in restic's duration syntax (e.g. "1y2m3d4h").</summary>
public sealed record RetentionPolicyInput
{
    public int? KeepLast { get; init; }
    public int? KeepHourly { get; init; }
    public int? KeepDaily { get; init; }
    public int? KeepWeekly { get; init; }
    public int? KeepMonthly { get; init; }
    public int? KeepYearly { get; init; }
    public string? KeepWithin { get; init; }
    /// <summary>Each entry a comma-separated tag list, all of which a snapshot must carry to be kept.</summary>
    public IReadOnlyList<string>? KeepTags { get; init; }
}

/// <param name="Policy">The policy in restic's words ("keep 7 daily, 4 weekly, 3 monthly snapshots").</param>
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
    IReadOnlyList<string> PacksRetained);
