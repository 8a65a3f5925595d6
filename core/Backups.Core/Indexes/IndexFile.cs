using System.Text.Json.Serialization;

namespace Backups.Core.Indexes;

/// <summary>index/&lt;id&gt;: which blobs each pack holds, so that nobody has to read pack headers.</summary>
public sealed class IndexFile
{
    [JsonPropertyName("supersedes")] public List<Id>? Supersedes { get; set; }
    [JsonPropertyName("packs")] public List<IndexPack> Packs { get; set; } = [];
}

public sealed class IndexPack
{
    [JsonPropertyName("id")] public Id Id { get; set; }
    [JsonPropertyName("blobs")] public List<IndexBlob> Blobs { get; set; } = [];
}

public sealed class IndexBlob
{
    [JsonPropertyName("id")] public Id Id { get; set; }
    [JsonPropertyName("type")] public string Type { get; set; } = "data";
    [JsonPropertyName("offset")] public uint Offset { get; set; }
    [JsonPropertyName("length")] public uint Length { get; set; }
    [JsonPropertyName("uncompressed_length")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public uint UncompressedLength { get; set; }
}
