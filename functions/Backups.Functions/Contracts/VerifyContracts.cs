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
    /// over 1..slices.</summary>
    public int? Slice { get; init; }

    public int? Slices { get; init; }

    /// <summary>Days over which the rotation reads every pack once; default VERIFY_CYCLE_DAYS, else 7.</summary>
    public int? CycleDays { get; init; }
}

/// <param name="Selection">Which packs were chosen for reading, in words (e.g. "slice 3/7 of the pack ids").</param>
/// <param name="PacksLeft">Chosen packs not read because the time ran out: they are read on a later night.</param>
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
    IReadOnlyList<string> Warnings);
