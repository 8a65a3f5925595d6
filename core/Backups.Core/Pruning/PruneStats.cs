namespace Backups.Core.Pruning;

/// <summary>What a prune found, planned and (unless it was a dry run) did. Sizes are bytes as stored.</summary>
public sealed class PruneStats
{
    public bool DryRun { get; set; }
    public int Snapshots { get; set; }

    // What the repository holds.
    public long UsedBlobs { get; set; }
    public long UsedBytes { get; set; }
    public long DuplicateBlobs { get; set; }
    public long DuplicateBytes { get; set; }
    public long UnusedBlobs { get; set; }
    public long UnusedBytes { get; set; }
    public int UnreferencedPacks { get; set; }
    public long UnreferencedBytes { get; set; }
    public int PacksUsed { get; set; }
    public int PacksPartlyUsed { get; set; }
    public int PacksUnused { get; set; }
    /// <summary>Packs that an index names but that are not in the repository (and no snapshot needs).</summary>
    public int PacksMissing { get; set; }

    // The plan.
    public int PacksToKeep { get; set; }
    public int PacksToRepack { get; set; }
    public int PacksToDelete { get; set; }
    public long BlobsToRepack { get; set; }
    public long BytesToRepack { get; set; }
    public long BlobsRemovedByRepack { get; set; }
    public long BytesRemovedByRepack { get; set; }
    public long BlobsToDelete { get; set; }
    public long BytesToDelete { get; set; }

    // What was done.
    /// <summary>Pack files removed: unused, repacked and unreferenced ones.</summary>
    public int PacksDeleted { get; set; }
    public int PacksWritten { get; set; }
    public long BlobsRepacked { get; set; }
    public long BytesRepacked { get; set; }
    public long BytesDeleted { get; set; }
    public long BytesWritten { get; set; }
    public long BytesFreed => BytesDeleted - BytesWritten;
    public int IndexFilesWritten { get; set; }
    public int IndexFilesRemoved { get; set; }
    /// <summary>Packs the store would not delete yet (S3 Object Lock retention), or that an index file it would
    /// not delete still names: left for a later prune, not counted in <see cref="PacksDeleted"/>.</summary>
    public List<string> RetainedPacks { get; } = [];
    /// <summary>Old index files the store would not delete yet; they stay beside the new ones.</summary>
    public List<string> RetainedIndexFiles { get; } = [];

    public long TotalBlobs => UsedBlobs + DuplicateBlobs + UnusedBlobs;
    public long TotalBytes => UsedBytes + DuplicateBytes + UnusedBytes + UnreferencedBytes;
    /// <summary>Bytes a prune removes: unused packs, unused blobs of repacked packs, unreferenced packs.</summary>
    public long BytesToPrune => BytesToDelete + BytesRemovedByRepack + UnreferencedBytes;
    public long UnusedBytesAfter => DuplicateBytes + UnusedBytes - BytesToDelete - BytesRemovedByRepack;
}
