using System.Text.Json.Serialization;

namespace Backups.Core.Locks;

/// <summary>locks/&lt;id&gt;: who holds the repository and since when.</summary>
public sealed class LockFile
{
    [JsonPropertyName("time")] public DateTimeOffset Time { get; set; }
    [JsonPropertyName("exclusive")] public bool Exclusive { get; set; }
    [JsonPropertyName("hostname")] public string Hostname { get; set; } = "";
    [JsonPropertyName("username")] public string Username { get; set; } = "";
    [JsonPropertyName("pid")] public int Pid { get; set; }
    [JsonPropertyName("uid")] public uint Uid { get; set; }
    [JsonPropertyName("gid")] public uint Gid { get; set; }
}
