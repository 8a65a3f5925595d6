namespace Backups.Core.Reporting;

/// <summary>A month of storing <paramref name="Bytes"/> in one S3 storage class, at us-east-1 prices.</summary>
public sealed record StorageClassCost(string StorageClass, long Bytes, decimal MonthlyCost);

/// <summary>
/// This month's storage bill, estimated: what the sources stored before the cold tier's transition age sits in the
/// cold class (data packs move then; their few tree blobs are counted with them), the rest of the repository's
/// files in STANDARD. Storage only: requests and retrievals depend on how often packs are read (README, "What it
/// costs").
/// </summary>
public static class StorageCost
{
    /// <summary>The classes the cold tier offers ("none" keeps everything in STANDARD), with their price per GB-month.</summary>
    public static readonly IReadOnlyDictionary<string, decimal> PricePerGbMonth = new Dictionary<string, decimal>(StringComparer.Ordinal)
    {
        ["STANDARD"] = 0.023m, ["STANDARD_IA"] = 0.0125m, ["GLACIER_IR"] = 0.004m,
    };

    /// <summary>The cold tier's class as the deployment names it (GLACIER_IR, STANDARD_IA or none, any case):
    /// null for none; false for anything else.</summary>
    public static bool TryParseColdClass(string text, out string? coldClass)
    {
        coldClass = text.Equals("none", StringComparison.OrdinalIgnoreCase) ? null : text.ToUpperInvariant();
        return coldClass is null or "GLACIER_IR" or "STANDARD_IA";
    }

    /// <summary>What <paramref name="sources"/> stored more than <paramref name="coldAfterDays"/> before
    /// <paramref name="now"/> (in the cold class by now), and the bill for the repository's files.</summary>
    public static List<StorageClassCost> Estimate(long repositoryBytes, IEnumerable<SourceStatus> sources, DateTimeOffset now, int coldAfterDays, string? coldClass) =>
        Estimate(repositoryBytes, sources.Sum(s => s.StoredBefore(now.AddDays(-coldAfterDays))), coldClass);

    /// <summary>Everything the repository's files take (packs, index, snapshots, keys).</summary>
    public static async Task<long> RepositoryBytesAsync(Backends.IBackend backend, CancellationToken ct)
    {
        long total = 0;
        foreach (var kind in new[] { Backends.FileKind.Pack, Backends.FileKind.Index, Backends.FileKind.Snapshot, Backends.FileKind.Key })
            await foreach (var (_, size) in backend.ListAsync(kind, ct)) total += size;
        return total;
    }

    /// <param name="repositoryBytes">Everything the repository's files take (packs, index, snapshots, keys).</param>
    /// <param name="coldBytes">What has been stored for longer than the transition age.</param>
    /// <param name="coldClass">The cold class, or null for none.</param>
    public static List<StorageClassCost> Estimate(long repositoryBytes, long coldBytes, string? coldClass)
    {
        coldBytes = coldClass == null ? 0 : Math.Clamp(coldBytes, 0, repositoryBytes);
        var result = new List<StorageClassCost> { Cost("STANDARD", repositoryBytes - coldBytes) };
        if (coldClass != null) result.Add(Cost(coldClass, coldBytes));
        return result;
    }

    private static StorageClassCost Cost(string storageClass, long bytes) =>
        new(storageClass, bytes, Math.Round(bytes / 1e9m * PricePerGbMonth[storageClass], 4));
}
