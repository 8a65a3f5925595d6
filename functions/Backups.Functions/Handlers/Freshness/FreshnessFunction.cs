using System.Globalization;
using Backups.Core.Snapshots;
using Backups.Core.Wal;
using Backups.Functions.Contracts;
using Backups.Functions.Repositories;
using Backups.Functions.Runtime;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Functions.Handlers.Freshness;

/// <summary>
/// Is every source backed up recently? Names each source whose latest snapshot is older than the threshold or
/// that has none. Stale sources fail the invocation with <see cref="StaleError"/> (unless the input says
/// otherwise): a Step Functions Catch on that name routes straight to Notify with the message as the cause,
/// and a scheduled run outside any workflow still shows up as a failed invocation (and its alarm).
/// A postgres-cluster source is also held to its recovery point objective: the file its WAL archive received
/// last must have been written by PostgreSQL within the RPO its nightly run recorded (a backlog archived late after an
/// outage is still as old as its writes), else <see cref="StaleWalError"/>. Its WAL
/// batches do not count as its nightly snapshots, which they would otherwise always make look fresh.
/// </summary>
public sealed class FreshnessFunction(FunctionEnvironment environment)
{
    public const string StaleError = ErrorNames.Prefix + "StaleBackups", StaleWalError = ErrorNames.Prefix + "StaleWalArchive";
    public const string ExpectedSourcesVariable = "FRESHNESS_EXPECTED_SOURCES", MaxAgeVariable = "FRESHNESS_MAX_AGE_HOURS";
    public const double DefaultMaxAgeHours = 25;

    private readonly FunctionRepository _repository = new(environment);
    private readonly IReadOnlyList<string>? _expected = environment.Optional(ExpectedSourcesVariable)?
        .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    private readonly double _maxAgeHours = environment.Optional(MaxAgeVariable) is { } hours
        ? double.TryParse(hours, CultureInfo.InvariantCulture, out var h) && h > 0 ? h
            : throw new ConfigurationException($"{MaxAgeVariable} must be a positive number of hours")
        : DefaultMaxAgeHours;

    public async Task<FreshnessResult> CheckAsync(FreshnessInput input, InvocationContext context)
    {
        var maxAgeHours = input.MaxAgeHours ?? _maxAgeHours;
        if (maxAgeHours <= 0) throw new InvalidInputException("invalid input at $.maxAgeHours: must be positive");
        await using var repo = await _repository.OpenAsync(context);
        var snapshots = await repo.LoadSnapshotsAsync(context.CancellationToken);
        var history = new SourceHistory([.. snapshots.Where(s => !PgSnapshots.IsWal(s))]);
        var now = environment.Time.GetUtcNow();
        var expected = input.ExpectedSources ?? _expected;

        var sources = (expected ?? [.. history.Sources]).Distinct().Select(name =>
        {
            var latest = history.Latest(name);
            double? age = latest == null ? null : (now - latest.Time).TotalHours;
            return new SourceFreshness(name, latest?.Time, latest?.Id.ToString(), age, age is not { } a || a > maxAgeHours);
        }).ToList();
        var wal = await CheckWalAsync(repo, snapshots, expected, now, context.CancellationToken);
        var stale = sources.Where(s => s.Stale).Select(s => s.Name).ToList();
        var staleWal = wal.Where(w => w.Stale).ToList();
        if ((stale.Count > 0 || staleWal.Count > 0) && input.FailWhenStale != false)
            throw new FunctionFailure(stale.Count > 0 ? StaleError : StaleWalError,
                string.Join("; ", new[] { stale.Count > 0 ? Describe(sources, maxAgeHours) : null, staleWal.Count > 0 ? Describe(staleWal) : null }.OfType<string>()));
        return new FreshnessResult(now, maxAgeHours, stale.Count == 0 && staleWal.Count == 0, [.. stale, .. staleWal.Select(w => w.Name).Except(stale)], sources, wal);
    }

    /// <summary>Every source with a WAL archive or a recorded RPO (of those expected, when some are).</summary>
    private static async Task<List<WalFreshness>> CheckWalAsync(Repo repo, List<Snapshot> snapshots, IReadOnlyList<string>? expected,
        DateTimeOffset now, CancellationToken ct)
    {
        var clusters = snapshots.Where(s => PgSnapshots.IsWal(s) || PgSnapshots.Rpo(s) != null).Select(SnapshotSource.Of).OfType<string>()
            .Where(name => expected == null || expected.Contains(name)).Distinct().Order(StringComparer.Ordinal).ToList();
        if (clusters.Count == 0) return [];
        await repo.LoadIndexAsync(ct);
        var result = new List<WalFreshness>();
        foreach (var name in clusters)
        {
            var rpo = snapshots.Where(s => SnapshotSource.Of(s) == name).Select(s => (s.Time, Rpo: PgSnapshots.Rpo(s)))
                .Where(r => r.Rpo != null).MaxBy(r => r.Time).Rpo ?? PgSnapshots.DefaultRpo;
            var newest = await WalArchive.NewestAsync(repo, name, snapshots, ct);
            var written = newest?.Written;
            double? age = written is { } w ? (now - w).TotalMinutes : null;
            result.Add(new WalFreshness(name, newest?.Name.Name, written, age, rpo.TotalMinutes, age is not { } m || m > rpo.TotalMinutes));
        }
        return result;
    }

    private static string Describe(List<SourceFreshness> sources, double maxAgeHours)
    {
        var stale = sources.Where(s => s.Stale).Select(s => s.LatestSnapshotTime is { } t
            ? $"{s.Name} (latest {t.UtcDateTime:yyyy-MM-dd HH:mm} UTC, {s.AgeHours:0.#} h ago)"
            : $"{s.Name} (no snapshot)");
        return $"{stale.Count()} of {sources.Count} sources have no snapshot in the last {maxAgeHours:0.#} h: {string.Join(", ", stale)}";
    }

    private static string Describe(List<WalFreshness> stale) => "WAL archive older than its RPO: " + string.Join(", ", stale.Select(w =>
        w.WrittenAt is { } t
            ? $"{w.Name} (newest {w.NewestFile} written {t.UtcDateTime:yyyy-MM-dd HH:mm} UTC, {Minutes(w.AgeMinutes!.Value)} ago; RPO {Minutes(w.RpoMinutes)})"
            : $"{w.Name} (no archived WAL; RPO {Minutes(w.RpoMinutes)})"));

    private static string Minutes(double minutes) => minutes >= 120 ? $"{minutes / 60:0.#} h" : $"{minutes:0.#} min";
}
