using System.Text.Json.Serialization;

namespace Backups.Core.Repositories;

public sealed class RepositoryConfig
{
    [JsonPropertyName("version")] public int Version { get; set; }
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("chunker_polynomial")] public string ChunkerPolynomial { get; set; } = "";
}
