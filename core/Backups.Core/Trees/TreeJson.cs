using System.Text.Json;
using Backups.Core.Json;
using Backups.Core.Repository;

namespace Backups.Core.Trees;

/// <summary>Tree blobs as restic writes them: the JSON object followed by a newline.</summary>
public static class TreeJson
{
    public static byte[] Serialize(Tree tree)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(tree, RepositoryJson.Context.Tree);
        var result = new byte[json.Length + 1];
        json.CopyTo(result, 0);
        result[^1] = (byte)'\n';
        return result;
    }

    public static Tree Parse(ReadOnlySpan<byte> blob, Id id) =>
        RepositoryJson.Deserialize(blob, RepositoryJson.Context.Tree, $"tree {id}");

    public static async Task<Tree> LoadAsync(Repository.Repository repo, Id id, CancellationToken ct = default) =>
        Parse(await repo.LoadBlobAsync(BlobType.Tree, id, ct), id);
}
