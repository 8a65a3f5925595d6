using System.Globalization;
using Backups.Core.Checking;
using Backups.Core.Locks;
using Backups.Functions.Contracts;
using Backups.Functions.Repositories;
using Backups.Functions.Runtime;

namespace Backups.Functions.Handlers.Verify;

/// <summary>
/// Verifies the repository as `backup-agent check` does: the whole structure every time, and the data of a
/// share of the packs sized to the invocation: no pack is started after the deadline less a margin for the
/// answer, and the rest of the share waits for a later night. Damage fails the invocation with
/// <see cref="DamagedError"/>, naming every damaged file, so a Catch routes it to the failure email.
/// </summary>
public sealed class VerifyFunction(FunctionEnvironment environment)
{
    public const string DamagedError = ErrorNames.Prefix + "RepositoryDamaged";
    public const string CycleVariable = "VERIFY_CYCLE_DAYS", ParallelismVariable = "VERIFY_PARALLELISM";
    public const int DefaultCycleDays = 7;
    // What the answer and the lock's removal need after the last pack: a pack read started just before the
    // deadline still has to finish.
    private static readonly TimeSpan ReadMargin = TimeSpan.FromSeconds(45);
    // Many reads in flight hide S3's latency; each holds one 16 MiB window.
    private const int DefaultParallelism = 16;

    private readonly FunctionRepository _repository = new(environment);
    private readonly int _cycleDays = PositiveInt(environment, CycleVariable) ?? DefaultCycleDays;
    private readonly int _parallelism = PositiveInt(environment, ParallelismVariable) ?? DefaultParallelism;

    public async Task<VerifyResult> VerifyAsync(VerifyInput input, InvocationContext context)
    {
        var now = environment.Time.GetUtcNow();
        var selection = Selection(input, now);
        await using var repo = await _repository.OpenAsync(context);
        CheckReport report;
        await using (await RepositoryLock.AcquireAsync(repo, exclusive: false, context.CancellationToken))
        {
            report = await Checker.CheckAsync(repo, new CheckOptions
            {
                ReadData = selection,
                ReadDeadline = context.Deadline - ReadMargin,
                Parallelism = _parallelism,
                Clock = environment.Time,
            }, context.CancellationToken);
        }
        if (report.IsDamaged)
            throw new FunctionFailure(DamagedError,
                $"{report.ErrorCount} problem(s): " + string.Join("; ", report.Errors.Select(e => e.Message)));
        return new VerifyResult(now, report.ReadSelection, report.Snapshots, report.Packs, report.Blobs, report.PacksSelected,
            report.PacksRead, report.PacksLeft, report.BytesRead, [.. report.Warnings.Select(w => w.Message)]);
    }

    private PackSelection Selection(VerifyInput input, DateTimeOffset now)
    {
        if (input.Deep == true) return PackSelection.All;
        if (input.Slice is not null || input.Slices is not null)
        {
            if (input.Slice is not { } slice || input.Slices is not { } slices || slices < 1 || slice < 1 || slice > slices)
                throw new InvalidInputException("invalid input at $.slice: slice and slices go together, with 1 <= slice <= slices");
            return PackSelection.Slice(slice, slices);
        }
        var cycle = input.CycleDays ?? _cycleDays;
        if (cycle < 1) throw new InvalidInputException("invalid input at $.cycleDays: must be at least 1");
        return PackSelection.Rotation(DateOnly.FromDateTime(now.UtcDateTime), cycle);
    }

    private static int? PositiveInt(FunctionEnvironment environment, string variable) => environment.Optional(variable) is { } text
        ? int.TryParse(text, CultureInfo.InvariantCulture, out var n) && n > 0 ? n
            : throw new ConfigurationException($"{variable} must be a positive whole number")
        : null;
}
