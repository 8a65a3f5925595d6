using System.Text.Json.Serialization;

namespace BackupAgent.Drills;

/// <summary>What `drill` found, per source; also what a workflow step receives. No secrets in it.</summary>
public sealed class DrillResult
{
    [JsonPropertyName("passed")] public bool Passed { get; set; }
    /// <summary>Why no drill ran (`drill --when-due` on a day its cadence skips); null when one did.</summary>
    [JsonPropertyName("skipped")] public string? Skipped { get; set; }
    [JsonPropertyName("failed_sources")] public List<string> FailedSources { get; set; } = [];
    [JsonPropertyName("repository")] public string Repository { get; set; } = "";
    [JsonPropertyName("started")] public DateTimeOffset Started { get; set; }
    [JsonPropertyName("duration_seconds")] public double DurationSeconds { get; set; }
    [JsonPropertyName("sources")] public List<SourceDrill> Sources { get; set; } = [];
}

public sealed class SourceDrill
{
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("kind")] public string Kind { get; set; } = "";
    [JsonPropertyName("passed")] public bool Passed { get; set; }
    [JsonPropertyName("snapshot_id")] public string? SnapshotId { get; set; }
    [JsonPropertyName("snapshot_time")] public DateTimeOffset? SnapshotTime { get; set; }
    /// <summary>Where it was restored, e.g. "database drill_app_1f2e on db.internal" or "temporary cluster on 127.0.0.1:41234".</summary>
    [JsonPropertyName("restored_into")] public string? RestoredInto { get; set; }
    /// <summary>The measured recovery time: from the first byte read from the repository until the restore program finished.</summary>
    [JsonPropertyName("restore_seconds")] public double? RestoreSeconds { get; set; }
    [JsonPropertyName("restore_bytes")] public long? RestoreBytes { get; set; }
    [JsonPropertyName("checks")] public List<DrillCheck> Checks { get; set; } = [];
    /// <summary>The first failed check's message, for a one-line alert.</summary>
    [JsonPropertyName("error")] public string? Error { get; set; }

    public void Check(string name, bool passed, string? expected = null, string? actual = null, string? message = null)
    {
        Checks.Add(new DrillCheck { Name = name, Passed = passed, Expected = expected, Actual = actual, Message = message });
        if (!passed) Error ??= $"{name}: {message ?? $"expected {expected}, found {actual}"}";
    }

    /// <summary>
    /// Recorded against restored counts (rows per table, keys per database). A difference within the tolerance
    /// passes (counts taken beside a dump of a busy server, not inside its snapshot); a missing entry fails
    /// unless <paramref name="absentIsZero"/> (Redis does not list empty databases).
    /// </summary>
    public void CompareCounts(string what, IReadOnlyDictionary<string, long> recorded, IReadOnlyDictionary<string, long> restored,
        double tolerancePercent, bool absentIsZero)
    {
        foreach (var name in recorded.Keys.Union(restored.Keys).Order(StringComparer.Ordinal))
        {
            long? expected = recorded.TryGetValue(name, out var e) ? e : absentIsZero ? 0 : null;
            long? actual = restored.TryGetValue(name, out var a) ? a : absentIsZero ? 0 : null;
            var passed = expected != null && actual != null && Math.Abs(actual.Value - expected.Value) <= expected.Value * tolerancePercent / 100;
            var message = passed ? null
                : expected == null ? "not in the backup's recorded facts"
                : actual == null ? "missing after the restore"
                : $"{actual} instead of {expected}" + (tolerancePercent > 0 ? $" (more than {tolerancePercent}% off)" : "");
            Check($"{what} {name}", passed, expected?.ToString() ?? "absent", actual?.ToString() ?? "absent", message);
        }
    }
}

public sealed class DrillCheck
{
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("passed")] public bool Passed { get; set; }
    [JsonPropertyName("expected")] public string? Expected { get; set; }
    [JsonPropertyName("actual")] public string? Actual { get; set; }
    [JsonPropertyName("message")] public string? Message { get; set; }
}

[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(DrillResult))]
[JsonSerializable(typeof(DrillFacts))]
[JsonSerializable(typeof(Dictionary<string, long>))]
internal partial class DrillJsonContext : JsonSerializerContext;
