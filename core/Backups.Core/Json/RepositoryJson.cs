using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Backups.Core.Indexes;
using Backups.Core.Locks;
using Backups.Core.Repositories;
using Backups.Core.Snapshots;
using Backups.Core.Trees;

namespace Backups.Core.Json;

[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(GoTimeConverter)])]
[JsonSerializable(typeof(RepositoryConfig))]
[JsonSerializable(typeof(KeyFile))]
[JsonSerializable(typeof(MasterKeyJson))]
[JsonSerializable(typeof(IndexFile))]
[JsonSerializable(typeof(Snapshot))]
[JsonSerializable(typeof(Tree))]
[JsonSerializable(typeof(LockFile))]
internal partial class RepositoryJsonContext : JsonSerializerContext;

/// <summary>The one serializer setup for repository files: Go-style output (UTF-8 kept as is).</summary>
internal static class RepositoryJson
{
    public static readonly RepositoryJsonContext Context = new(new JsonSerializerOptions
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    public static byte[] Serialize<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info) =>
        JsonSerializer.SerializeToUtf8Bytes(value, info);

    /// <summary>Parses a repository file; a parse failure means the file is damaged, and says which.</summary>
    public static T Deserialize<T>(ReadOnlySpan<byte> json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info, string file)
    {
        try
        {
            return JsonSerializer.Deserialize(json, info) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new RepositoryException(ErrorKind.Damaged, $"{file} is damaged: not valid JSON ({e.Message.Split('.')[0]})", e);
        }
    }
}
