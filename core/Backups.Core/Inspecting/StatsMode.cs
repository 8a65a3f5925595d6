namespace Backups.Core.Inspecting;

/// <summary>restic's stats --mode: what is counted.</summary>
public enum StatsMode
{
    /// <summary>Every node as a restore writes it (hard links once per snapshot).</summary>
    RestoreSize,
    /// <summary>Nodes unique by their content list, over all snapshots chosen.</summary>
    FilesByContents,
    /// <summary>Unique blobs (trees and data) as stored: sizes after compression and encryption.</summary>
    RawData,
    /// <summary>Per path, each data blob once (plaintext sizes), over files unique by content.</summary>
    BlobsPerFile,
}

public static class StatsModes
{
    public static readonly string[] Names = ["restore-size", "files-by-contents", "raw-data", "blobs-per-file"];

    public static string Name(StatsMode mode) => Names[(int)mode];

    public static StatsMode? Parse(string text)
    {
        var i = Array.IndexOf(Names, text);
        return i < 0 ? null : (StatsMode)i;
    }
}

/// <summary>restic's stats result (its JSON: total_size, total_file_count, total_blob_count, snapshots_count).</summary>
public sealed record RepositoryStats(ulong TotalSize, ulong TotalFileCount, ulong TotalBlobCount, int SnapshotsCount);
