using System.Text.Json;
using Backups.Core.Json;
using Backups.Core.Repositories;

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

    /// <summary>Parses a tree blob. A name that could step out of its directory ("", ".", "..", one holding '/' or
    /// NUL) or that two nodes share is damage: a restore would otherwise write through it or twice.</summary>
    public static Tree Parse(ReadOnlySpan<byte> blob, Id id)
    {
        var tree = RepositoryJson.Deserialize(blob, RepositoryJson.Context.Tree, $"tree {id}");
        var names = new HashSet<string>(tree.Nodes.Count, StringComparer.Ordinal);
        foreach (var node in tree.Nodes)
        {
            if (node.Name is "" or "." or ".." || node.Name.AsSpan().IndexOfAny('/', '\0') >= 0)
                throw new RepositoryException(ErrorKind.Damaged, $"tree {id} is damaged: invalid name '{node.Name}'");
            if (!names.Add(node.Name))
                throw new RepositoryException(ErrorKind.Damaged, $"tree {id} is damaged: two nodes are named '{node.Name}'");
        }
        return tree;
    }

    /// <summary>Stores a tree blob unless the repository holds it already.</summary>
    /// <returns>Its id, its JSON length, and its stored length when it was new.</returns>
    public static async Task<(Id Id, int Length, int? Stored)> SaveAsync(Repository repo, Tree tree, CancellationToken ct = default)
    {
        var json = Serialize(tree);
        var id = Id.Hash(json);
        return (id, json.Length, await repo.SaveBlobAsync(BlobType.Tree, id, json, ct: ct));
    }

    public static async Task<Tree> LoadAsync(Repository repo, Id id, CancellationToken ct = default) =>
        Parse(await repo.LoadBlobAsync(BlobType.Tree, id, ct), id);
}
