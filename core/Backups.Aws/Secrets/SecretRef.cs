using System.Text.Json.Serialization;

namespace Backups.Aws.Secrets;

/// <summary>Where a secret comes from; its value never appears in results, logs or child processes' arguments.</summary>
public sealed class SecretRef
{
    [JsonPropertyName("env")] public string? Env { get; set; }
    [JsonPropertyName("file")] public string? File { get; set; }
    /// <summary>An SSM Parameter Store parameter (a SecureString, read with the instance's or function's role).</summary>
    [JsonPropertyName("ssm")] public string? Ssm { get; set; }
    /// <summary>Inline: for demos and tests only.</summary>
    [JsonPropertyName("value")] public string? Value { get; set; }

    /// <summary>Why this reference cannot be resolved as written, or null when it can be tried.</summary>
    public string? Problem => new[] { Env, File, Ssm, Value }.Count(v => v != null) == 1
        ? null : "give exactly one of env, file, ssm, value";
}
