namespace Backups.Core.Checking;

/// <summary>How far a check's reading of packs has come; safe to read while it runs.</summary>
public sealed class ReadProgress
{
    private int _packsRead;
    private long _bytesRead;

    public int Packs { get; private set; }
    public long Bytes { get; private set; }
    public int PacksRead => Volatile.Read(ref _packsRead);
    public long BytesRead => Interlocked.Read(ref _bytesRead);

    internal void Start(int packs, long bytes) => (Packs, Bytes) = (packs, bytes);

    internal void Read(long bytes)
    {
        Interlocked.Add(ref _bytesRead, bytes);
        Interlocked.Increment(ref _packsRead);
    }
}

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

    /// <summary>Counted into as packs are read, for a progress display.</summary>
    public ReadProgress? Progress { get; init; }

    /// <summary>The most of a pack read at once (more only for a bigger blob): our packs and restic's default
    /// 16 MiB ones are read in one request, bigger ones in pieces.</summary>
    internal int ReadWindow { get; init; } = 16 << 20;
}
