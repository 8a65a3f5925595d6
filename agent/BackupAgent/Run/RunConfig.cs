using System.Text.Json.Serialization;

namespace BackupAgent.Run;

/// <summary>The nightly job: one repository, several sources, each becoming its own tagged snapshot.</summary>
public sealed class RunConfig
{
    [JsonPropertyName("repository")] public string Repository { get; set; } = "";
    [JsonPropertyName("password")] public SecretRef Password { get; set; } = new();
    [JsonPropertyName("host")] public string? Host { get; set; }
    [JsonPropertyName("sources")] public List<SourceConfig> Sources { get; set; } = [];

    /// <summary>
    /// What `run` does without --config: a local repository under ./.demo backed up from this folder, so a
    /// newcomer sees the whole job work without an AWS account or a database.
    /// </summary>
    public static RunConfig EmbeddedDefault() => new()
    {
        Repository = Path.Combine(".demo", "repository"),
        Password = new SecretRef { Value = "demo-only-password" },
        Sources =
        [
            new SourceConfig { Name = "project", Kind = "paths", Paths = ["."], Exclude = [".demo", ".git", "bin", "obj", "node_modules"] },
            new SourceConfig { Name = "system-info", Kind = "command", Command = ["uname", "-a"], Filename = "system-info.txt" },
        ],
    };
}

/// <summary>Where a secret comes from; its value never appears in results or logs.</summary>
public sealed class SecretRef
{
    [JsonPropertyName("env")] public string? Env { get; set; }
    [JsonPropertyName("file")] public string? File { get; set; }
    /// <summary>Inline, for demos and tests only.</summary>
    [JsonPropertyName("value")] public string? Value { get; set; }
}

public sealed class SourceConfig
{
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    /// <summary>paths | command</summary>
    [JsonPropertyName("kind")] public string Kind { get; set; } = "";
    [JsonPropertyName("paths")] public List<string>? Paths { get; set; }
    [JsonPropertyName("exclude")] public List<string>? Exclude { get; set; }
    [JsonPropertyName("command")] public List<string>? Command { get; set; }
    /// <summary>The file name a command's output gets in its snapshot (default: NAME).</summary>
    [JsonPropertyName("filename")] public string? Filename { get; set; }
}

public sealed class RunResult
{
    [JsonPropertyName("repository")] public string Repository { get; set; } = "";
    [JsonPropertyName("succeeded")] public bool Succeeded { get; set; }
    [JsonPropertyName("sources")] public List<SourceResult> Sources { get; set; } = [];
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
}

[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(RunConfig))]
[JsonSerializable(typeof(RunResult))]
internal partial class RunJsonContext : JsonSerializerContext;
