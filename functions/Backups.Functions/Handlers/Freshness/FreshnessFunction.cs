using System.Globalization;
using Backups.Functions.Contracts;
using Backups.Functions.Repositories;
using Backups.Functions.Runtime;

namespace Backups.Functions.Handlers.Freshness;

/// <summary>
/// Is every source backed up recently? Names each source whose latest snapshot is older than the threshold or
/// that has none. Stale sources fail the invocation with <see cref="StaleError"/> (unless the input says
/// otherwise): a Step Functions Catch on that name routes straight to Notify with the message as the cause,
/// and a scheduled run outside any workflow still shows up as a failed invocation (and its alarm).
/// </summary>
public sealed class FreshnessFunction(FunctionEnvironment environment)
{
    public const string StaleError = ErrorNames.Prefix + "StaleBackups";
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
        var history = await _repository.LoadHistoryAsync(context);
        var now = environment.Time.GetUtcNow();

        var sources = (input.ExpectedSources ?? _expected ?? [.. history.Sources]).Distinct().Select(name =>
        {
            var latest = history.Latest(name);
            double? age = latest == null ? null : (now - latest.Time).TotalHours;
            return new SourceFreshness(name, latest?.Time, latest?.Id.ToString(), age, age is not { } a || a > maxAgeHours);
        }).ToList();
        var stale = sources.Where(s => s.Stale).Select(s => s.Name).ToList();
        if (stale.Count > 0 && input.FailWhenStale != false)
            throw new FunctionFailure(StaleError, Describe(sources, maxAgeHours));
        return new FreshnessResult(now, maxAgeHours, stale.Count == 0, stale, sources);
    }

    private static string Describe(List<SourceFreshness> sources, double maxAgeHours)
    {
        var stale = sources.Where(s => s.Stale).Select(s => s.LatestSnapshotTime is { } t
            ? $"{s.Name} (latest {t.UtcDateTime:yyyy-MM-dd HH:mm} UTC, {s.AgeHours:0.#} h ago)"
            : $"{s.Name} (no snapshot)");
        return $"{stale.Count()} of {sources.Count} sources have no snapshot in the last {maxAgeHours:0.#} h: {string.Join(", ", stale)}";
    }
}
