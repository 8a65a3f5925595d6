namespace Backups.Core.Checking;

/// <summary>What a check does beyond the structure: which packs it reads in full, and for how long.</summary>
public sealed record CheckOptions
{
    /// <summary>The packs whose every byte is read and verified; <see cref="PackSelection.None"/> checks structure only.</summary>
    public PackSelection ReadData { get; init; } = PackSelection.None;

    /// <summary>No new pack is started at or after this moment; the report says how many were left. A Lambda
    /// sets it from its remaining time.</summary>
    public DateTimeOffset? ReadDeadline { get; init; }

    /// <summary>Packs (and trees) in flight at once; each pack in flight holds at most one read window.</summary>
    public int Parallelism { get; init; } = Math.Max(2, Environment.ProcessorCount);

    /// <summary>False leaves the snapshots and the trees they reach to another check: the Verify workflow checks
    /// them once while planning, and its slices only read data.</summary>
    public bool Snapshots { get; init; } = true;

    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>The most of a pack read at once (more only for a bigger blob): our packs and restic's default
    /// 16 MiB ones are read in one request, bigger ones in pieces.</summary>
    internal int ReadWindow { get; init; } = 16 << 20;
}
