using System.Globalization;
using Backups.Functions.Runtime;

namespace Backups.Functions.Handlers.Verify;

/// <summary>How the Verify functions are configured (environment variables, each with a default).</summary>
public sealed class VerifySettings(FunctionEnvironment environment)
{
    public const string CycleVariable = "VERIFY_CYCLE_DAYS", ParallelismVariable = "VERIFY_PARALLELISM",
        SliceBytesVariable = "VERIFY_SLICE_BYTES", MaxConcurrencyVariable = "VERIFY_MAX_CONCURRENCY";
    public const int DefaultCycleDays = 7, DefaultMaxConcurrency = 5;
    // What one 15-minute invocation of 1 GB reads with room to spare (about 40 MB/s); a slice that still runs
    // out of time leaves its last packs for a later night rather than failing.
    public const long DefaultSliceBytes = 32L << 30;
    // Many reads in flight hide S3's latency; each holds one 16 MiB window.
    private const int DefaultParallelism = 16;

    /// <summary>Days over which the nightly rotation reads every pack once.</summary>
    public int CycleDays { get; } = (int)(Positive(environment, CycleVariable) ?? DefaultCycleDays);

    /// <summary>Packs read at once by one invocation.</summary>
    public int Parallelism { get; } = (int)(Positive(environment, ParallelismVariable) ?? DefaultParallelism);

    /// <summary>The most of the night's share one invocation is planned to read.</summary>
    public long SliceBytes { get; } = Positive(environment, SliceBytesVariable, long.MaxValue) ?? DefaultSliceBytes;

    /// <summary>Slices read at once by the workflow's Map state.</summary>
    public int MaxConcurrency { get; } = (int)(Positive(environment, MaxConcurrencyVariable) ?? DefaultMaxConcurrency);

    private static long? Positive(FunctionEnvironment environment, string variable, long max = int.MaxValue) =>
        environment.Optional(variable) is { } text
            ? long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 && n <= max ? n
                : throw new ConfigurationException($"{variable} must be a whole number from 1 to {max}")
            : null;
}
