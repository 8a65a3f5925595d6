using System.Text.Json.Serialization;

namespace Backups.Core.Snapshots;

/// <summary>snapshots/&lt;id&gt;: one backup: when, of what, from where, and its root tree.</summary>
public sealed class Snapshot
{
    [JsonPropertyName("time")] public DateTimeOffset Time { get; set; }
    [JsonPropertyName("parent")] public Id? Parent { get; set; }
    [JsonPropertyName("tree")] public Id Tree { get; set; }
    [JsonPropertyName("paths")] public List<string> Paths { get; set; } = [];
    [JsonPropertyName("hostname")] public string? Hostname { get; set; }
    [JsonPropertyName("username")] public string? Username { get; set; }
    [JsonPropertyName("uid")] public uint? Uid { get; set; }
    [JsonPropertyName("gid")] public uint? Gid { get; set; }
    [JsonPropertyName("excludes")] public List<string>? Excludes { get; set; }
    [JsonPropertyName("tags")] public List<string>? Tags { get; set; }
    [JsonPropertyName("original")] public Id? Original { get; set; }
    [JsonPropertyName("program_version")] public string? ProgramVersion { get; set; }

    /// <summary>The snapshot's own id (the hash of its stored file); not part of the JSON.</summary>
    [JsonIgnore] public Id Id { get; set; }
}
