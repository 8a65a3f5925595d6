namespace Backups.Functions.Contracts;

/// <summary>
/// What Verify reads. <c>{}</c>: the structure, plus today's share of the packs (a rotation that reads every
/// pack once per cycle), as much of it as the invocation's remaining time allows.
/// </summary>
public sealed record VerifyInput
{
    /// <summary>Read every pack instead of today's share (a manual, deep verification).</summary>
    public bool? Deep { get; init; }

    /// <summary>Read slice <c>slice</c> of <c>slices</c> equal ranges of pack ids instead: a Map state fans out
    /// over the slices VerifyPlan made.</summary>
    public int? Slice { get; init; }

    public int? Slices { get; init; }

    /// <summary>Days over which the rotation reads every pack once; default VERIFY_CYCLE_DAYS, else 7.</summary>
    public int? CycleDays { get; init; }

    /// <summary>Read the selected packs only, leaving the snapshots and their trees to VerifyPlan (which checked
    /// them once for all the slices).</summary>
    public bool? DataOnly { get; init; }
}

/// <param name="Selection">Which packs were chosen for reading, in words (e.g. "slice 3 of 7").</param>
/// <param name="PacksLeft">Chosen packs not read because the time ran out: they are read on a later night.</param>
/// <param name="Slices">After a fan-out (VerifyMerge): what each slice read; the totals above are their sums.</param>
public sealed record VerifyResult(
    DateTimeOffset CheckedAt,
    string Selection,
    int Snapshots,
    int Packs,
    long Blobs,
    int PacksSelected,
    int PacksRead,
    int PacksLeft,
    long BytesRead,
    IReadOnlyList<string> Warnings,
    IReadOnlyList<VerifySliceSummary>? Slices = null);

/// <summary>What one slice of a fan-out read.</summary>
public sealed record VerifySliceSummary(string Selection, int PacksSelected, int PacksRead, int PacksLeft, long BytesRead);

/// <summary>What VerifyPlan reads: the night's share as Verify would choose it.</summary>
public sealed record VerifyPlanInput
{
    /// <summary>Read every pack instead of today's share.</summary>
    public bool? Deep { get; init; }

    /// <summary>Days over which the rotation reads every pack once; default VERIFY_CYCLE_DAYS, else 7.</summary>
    public int? CycleDays { get; init; }
}

/// <summary>One branch of the fan-out: Verify reads slice <paramref name="Slice"/> of <paramref name="Slices"/>.</summary>
public sealed record VerifyPart(int Slice, int Slices);

/// <summary>
/// VerifyPlan's answer: the structure checked (snapshots, trees, index against packs), and the night's share of
/// the packs split into <see cref="Parts"/> of at most VERIFY_SLICE_BYTES each (one for a small repository),
/// read by a Map state at most <see cref="MaxConcurrency"/> at a time.
/// </summary>
/// <param name="Results">Not VerifyPlan's: the workflow's Map state puts each part's <see cref="VerifyResult"/>
/// here, in the order of <see cref="Parts"/>, for VerifyMerge.</param>
public sealed record VerifyPlan(
    DateTimeOffset CheckedAt,
    string Selection,
    int Snapshots,
    int Packs,
    long Blobs,
    int PacksSelected,
    long BytesSelected,
    long SliceBytes,
    int MaxConcurrency,
    IReadOnlyList<VerifyPart> Parts,
    IReadOnlyList<string> Warnings,
    IReadOnlyList<VerifyResult>? Results = null);

/// <summary>What VerifyMerge reads: the plan, with the Map state's results in it.</summary>
public sealed record VerifyMergeInput
{
    public required VerifyPlan Plan { get; init; }
}
