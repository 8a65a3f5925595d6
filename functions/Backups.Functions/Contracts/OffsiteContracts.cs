namespace Backups.Functions.Contracts;

/// <summary>The offsite copy's input; <c>{}</c> copies when the cadence says so.</summary>
public sealed record OffsiteInput
{
    /// <summary>"when-due" (the default: OFFSITE_CADENCE decides, weekly on Sundays UTC) or "now".</summary>
    public string? When { get; init; }
}

/// <param name="Copied">Whether a copy ran (false when it was not due, or no offsite repository is configured: then
/// <paramref name="Skipped"/> says why).</param>
/// <param name="Destination">The offsite repository (its location only).</param>
/// <param name="SnapshotsCopied">Snapshots the destination lacked and now holds.</param>
/// <param name="SnapshotsAlreadyThere">Snapshots a copy found at the destination already.</param>
/// <param name="BytesAdded">Stored bytes of the blobs added to the destination (deduplicated against it).</param>
/// <param name="Complete">False when the invocation's time ran out first: what it copied is kept, and the workflow
/// invokes the step again to copy the rest (<paramref name="SnapshotsLeft"/>).</param>
public sealed record OffsiteResult(
    bool Copied,
    string? Skipped,
    string? Destination,
    int SnapshotsCopied,
    int SnapshotsAlreadyThere,
    int BlobsCopied,
    long BytesAdded,
    bool Complete,
    int SnapshotsLeft);
