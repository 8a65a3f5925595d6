using System.Text.Json.Serialization;

namespace Backups.Core.Checking;

[JsonConverter(typeof(JsonStringEnumConverter<ProblemSeverity>))]
public enum ProblemSeverity
{
    /// <summary>Damage: something stored is missing, does not verify or contradicts the index.</summary>
    Error,
    /// <summary>Worth knowing, nothing lost: a stale lock, a pack no index names.</summary>
    Warning,
}

/// <summary>One finding: the repository file it concerns (e.g. <c>data/ab/abcd…</c>), the blob if one is at
/// fault, and a one-line message that names both.</summary>
public sealed record CheckProblem(
    [property: JsonPropertyName("severity")] ProblemSeverity Severity,
    [property: JsonPropertyName("file")] string? File,
    [property: JsonPropertyName("blob")] Id? Blob,
    [property: JsonPropertyName("message")] string Message)
{
    public override string ToString() => $"{(Severity == ProblemSeverity.Error ? "error" : "warning")}: {Message}";
}
