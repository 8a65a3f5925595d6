using Backups.Core.Filtering;
using Backups.Core.Snapshots;
using Backups.Core.Trees;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Inspecting;

/// <summary>
/// restic 0.14's find by pattern: every node whose path matches one of the patterns (case folded with
/// <c>ignoreCase</c>), directories entered only where a match below is possible. One walker serves all snapshots,
/// so, as in restic, a directory whose tree was already searched without a hit is not searched again.
/// </summary>
public sealed class FileFinder(Repo repo, IReadOnlyList<string> patterns, bool ignoreCase)
{
    private readonly RepositoryWalker _walker = new(repo);
    private readonly List<PathPattern> _patterns = patterns.Select(p => new PathPattern(ignoreCase ? p.ToLowerInvariant() : p)).ToList();

    public Task FindAsync(Snapshot snapshot, Action<string, Node> onMatch, CancellationToken ct) =>
        _walker.WalkAsync(snapshot.Tree, (path, node, _) =>
        {
            var normalized = ignoreCase ? path.ToLowerInvariant() : path;
            var ignoreIfNoMatch = new Visit(true);
            if (node.Type == Node.Dir)
                ignoreIfNoMatch = _patterns.Any(p => p.ChildMayMatch(normalized)) ? Visit.Continue : new Visit(true, SkipChildren: true);
            if (!_patterns.Any(p => p.Matches(normalized))) return ignoreIfNoMatch;
            onMatch(path, node);
            return Visit.Continue;
        }, ct);
}
