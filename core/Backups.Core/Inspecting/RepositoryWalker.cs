using Backups.Core.FileSystem;
using Backups.Core.Repositories;
using Backups.Core.Trees;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Inspecting;

/// <summary>What a visit asks of the walk: Ignore marks the node as done for good (a directory's tree is not
/// walked again while <see cref="RepositoryWalker"/>'s set lives); SkipChildren leaves this directory's tree out.</summary>
public readonly record struct Visit(bool Ignore, bool SkipChildren = false)
{
    public static readonly Visit Continue = new(false), Done = new(true);
}

/// <summary>
/// restic's tree walker (internal/walker), whose skipping decides what stats and find report: nodes in name
/// order, a directory visited before its tree, and a tree whose every node was ignored (or whose directory was)
/// not walked again while the same set of ignored trees is in use. find keeps one set over all snapshots and so
/// names a directory whose tree it already searched only once, as restic does.
/// </summary>
public sealed class RepositoryWalker(Repo repo)
{
    private readonly HashSet<Id> _ignored = [];

    public delegate Visit Visitor(string path, Node node, Id parentTree);

    public Task WalkAsync(Id root, Visitor visit, CancellationToken ct) => WalkTreeAsync("/", root, visit, ct);

    /// <summary>Returns whether every node of the tree was ignored.</summary>
    private async Task<bool> WalkTreeAsync(string prefix, Id treeId, Visitor visit, CancellationToken ct)
    {
        var nodes = (await TreeJson.LoadAsync(repo, treeId, ct)).Nodes.ToList();
        nodes.Sort((a, b) => FileName.Compare(a.Name, b.Name));
        var allIgnored = nodes.Count > 0;
        foreach (var node in nodes)
        {
            var path = FileName.Join(prefix, node.Name);
            if (node.Type != Node.Dir)
            {
                if (!visit(path, node, treeId).Ignore) allIgnored = false;
                continue;
            }
            var subtree = node.Subtree
                ?? throw new RepositoryException(ErrorKind.Damaged, $"tree {treeId} is damaged: directory {path} has no subtree");
            if (_ignored.Contains(subtree)) continue;
            var decision = visit(path, node, treeId);
            if (decision.Ignore) _ignored.Add(subtree);
            if (decision.SkipChildren) continue;
            if (!decision.Ignore) allIgnored = false;
            if (await WalkTreeAsync(path, subtree, visit, ct)) _ignored.Add(subtree);
            else allIgnored = false;
        }
        return allIgnored;
    }
}
