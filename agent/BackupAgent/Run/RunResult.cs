using System.Text.Json.Serialization;
using Backups.Core.Json;
using Backups.Core.Retention;

namespace BackupAgent.Run;

/// <summary>What the run did, per source; this is also what the workflow receives. No secrets in it.</summary>
public sealed class RunResult
{
    [JsonPropertyName("succeeded")] public bool Succeeded { get; set; }
    [JsonPropertyName("failed_sources")] public List<string> FailedSources { get; set; } = [];
    [JsonPropertyName("repository")] public string Repository { get; set; } = "";
    [JsonPropertyName("host")] public string Host { get; set; } = "";
    [JsonPropertyName("started")] public DateTimeOffset Started { get; set; }
    [JsonPropertyName("duration_seconds")] public double DurationSeconds { get; set; }
    [JsonPropertyName("sources")] public List<SourceResult> Sources { get; set; } = [];
    /// <summary>The config's per-source and per-tag retention, for the workflow's Retention step (always present).</summary>
    [JsonPropertyName("retention")] public SourcePolicies Retention { get; set; } = SourcePolicies.None;
}

public sealed class SourceResult
{
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("kind")] public string Kind { get; set; } = "";
    [JsonPropertyName("succeeded")] public bool Succeeded { get; set; }
    [JsonPropertyName("snapshot_id")] public string? SnapshotId { get; set; }
    [JsonPropertyName("bytes_read")] public long BytesRead { get; set; }
    [JsonPropertyName("bytes_added")] public long BytesAdded { get; set; }
    [JsonPropertyName("bytes_stored")] public long BytesStored { get; set; }
    [JsonPropertyName("files")] public long Files { get; set; }
    [JsonPropertyName("duration_seconds")] public double DurationSeconds { get; set; }
    [JsonPropertyName("exit_status")] public int? ExitStatus { get; set; }
    [JsonPropertyName("error")] public string? Error { get; set; }
    /// <summary>What the run left out on purpose, e.g. a postgres-cluster's base backup before its cadence is due.</summary>
    [JsonPropertyName("skipped")] public string? Skipped { get; set; }
    /// <summary>What the snapshot lacks and why (files that vanished or could not be read); the source still succeeded.</summary>
    [JsonPropertyName("warnings")] public List<string>? Warnings { get; set; }
    /// <summary>The end of the program's stderr, secrets masked: usually the reason it failed.</summary>
    [JsonPropertyName("stderr_tail")] public string? StderrTail { get; set; }
}

[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    UseStringEnumConverter = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    Converters = [typeof(GoTimeConverter)])]
[JsonSerializable(typeof(RunConfig))]
[JsonSerializable(typeof(RunResult))]
internal partial class RunJsonContext : JsonSerializerContext;
