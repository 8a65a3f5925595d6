namespace Backups.Functions.Contracts;

/// <summary>The freshness check's input; <c>{}</c> checks every source with the defaults.</summary>
public sealed record FreshnessInput
{
    /// <summary>The sources that must have a recent snapshot. A source named here without any snapshot is stale.
    /// When absent: FRESHNESS_EXPECTED_SOURCES (comma-separated), else every source found in the repository.</summary>
    public IReadOnlyList<string>? ExpectedSources { get; init; }

    /// <summary>A source whose latest snapshot is older is stale. Default: FRESHNESS_MAX_AGE_HOURS, else 25
    /// (a nightly job plus an hour of slack).</summary>
    public double? MaxAgeHours { get; init; }

    /// <summary>True or absent: stale sources fail the invocation with error Backups.StaleBackups, which a
    /// Catch routes to Notify. False: the result's <c>allFresh</c> says it, for a Choice state.</summary>
    /// <remarks>Nullable rather than defaulting to true: the source-generated reader sets every init-only
    /// property, so a member missing from the JSON would overwrite an initializer with false.</remarks>
    public bool? FailWhenStale { get; init; }
}

public sealed record FreshnessResult(
    DateTimeOffset CheckedAt,
    double MaxAgeHours,
    bool AllFresh,
    IReadOnlyList<string> Stale,
    IReadOnlyList<SourceFreshness> Sources,
    IReadOnlyList<WalFreshness> Wal);

/// <param name="LatestSnapshotTime">Null when the source has no snapshot.</param>
/// <param name="AgeHours">Hours from the latest snapshot to <c>checkedAt</c>; null when there is none.</param>
public sealed record SourceFreshness(string Name, DateTimeOffset? LatestSnapshotTime, string? LatestSnapshotId, double? AgeHours, bool Stale);

/// <summary>A postgres-cluster source's WAL archive: its newest file, when PostgreSQL finished writing it (what a
/// recovery can reach at most), and the source's recovery point objective (the nightly run records it in its facts
/// snapshot's tags).</summary>
/// <param name="NewestFile">Null when the source has no archived WAL at all (which is stale).</param>
public sealed record WalFreshness(string Name, string? NewestFile, DateTimeOffset? WrittenAt, double? AgeMinutes, double RpoMinutes, bool Stale);
