using Backups.Core.Repositories;
using Backups.Core.Trees;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Restoring;

/// <summary>Finds and lists nodes inside a snapshot's tree.</summary>
public static class TreeWalker
{
    /// <summary>The node at a path like "/postgres.dump" or "/var/lib/x/file".</summary>
    public static async Task<Node> FindAsync(Repo repo, Id root, string path, CancellationToken ct = default)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) return new Node { Name = "/", Type = Node.Dir, Subtree = root };
        var tree = root;
        Node? node = null;
        for (var i = 0; i < parts.Length; i++)
        {
            var nodes = (await TreeJson.LoadAsync(repo, tree, ct)).Nodes;
            node = nodes.FirstOrDefault(n => n.Name == parts[i])
                   ?? throw new RepositoryException(ErrorKind.NotFound, $"{path} is not in the snapshot");
            if (i < parts.Length - 1)
                tree = node.Subtree ?? throw new RepositoryException(ErrorKind.NotFound, $"{path} is not in the snapshot ({node.Name} is not a directory)");
        }
        return node!;
    }

    /// <summary>Every node below a tree, depth first, with its path.</summary>
    public static async IAsyncEnumerable<(string Path, Node Node)> WalkAsync(Repo repo, Id tree, string prefix = "",
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        foreach (var node in (await TreeJson.LoadAsync(repo, tree, ct)).Nodes)
        {
            var path = $"{prefix}/{node.Name}";
            yield return (path, node);
            if (node.Subtree is { } sub)
                await foreach (var child in WalkAsync(repo, sub, path, ct)) yield return child;
        }
    }
}
