using System.Text.Json;
using System.Text.Json.Serialization;

namespace BackupAgent.Drills;

/// <summary>
/// What a drill compares a restore with, recorded at backup time and stored beside the dump in the same
/// snapshot as NAME.drill.json (so `restic dump latest /NAME.dump` stays exactly what pg_dump wrote).
/// </summary>
public sealed class DrillFacts
{
    [JsonPropertyName("source")] public string Source { get; set; } = "";
    [JsonPropertyName("kind")] public string Kind { get; set; } = "";
    [JsonPropertyName("time")] public DateTimeOffset Time { get; set; }
    /// <summary>PostgreSQL: true when the counts come from the very snapshot pg_dump dumped (exact), false when
    /// they were taken right after the dump (the server could not export its snapshot).</summary>
    [JsonPropertyName("same_snapshot")] public bool? SameSnapshot { get; set; }
    /// <summary>PostgreSQL: exact row count per "schema"."table".</summary>
    [JsonPropertyName("tables")] public SortedDictionary<string, long>? Tables { get; set; }
    /// <summary>postgres-cluster: the moment the counts describe (the counting statement's statement_timestamp(),
    /// when its snapshot was taken), which the PITR drill recovers to.</summary>
    [JsonPropertyName("moment")] public DateTimeOffset? Moment { get; set; }
    /// <summary>postgres-cluster: the database counted and the role that counted (the drill counts as it, so that
    /// row-level security hides the same rows).</summary>
    [JsonPropertyName("database")] public string? Database { get; set; }
    [JsonPropertyName("role")] public string? Role { get; set; }
    /// <summary>postgres-cluster: the server's archive_timeout in seconds (0: off), the default RPO's base.</summary>
    [JsonPropertyName("archive_timeout_seconds")] public int? ArchiveTimeoutSeconds { get; set; }
    /// <summary>Redis: keys per database ("db0", ...) from INFO keyspace when the dump started.</summary>
    [JsonPropertyName("keys")] public SortedDictionary<string, long>? Keys { get; set; }

    public static string FileName(string sourceName) => $"{sourceName}.drill.json";

    public byte[] Serialize() => JsonSerializer.SerializeToUtf8Bytes(this, DrillJsonContext.Default.DrillFacts);

    public static DrillFacts Parse(byte[] json) =>
        JsonSerializer.Deserialize(json, DrillJsonContext.Default.DrillFacts) ?? throw new JsonException("empty drill facts");
}
