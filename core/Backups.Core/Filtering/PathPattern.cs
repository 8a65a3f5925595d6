namespace Backups.Core.Filtering;

/// <summary>
/// restic's path patterns (its filter package), as backup's --exclude and restore's --include/--exclude take them:
/// glob components ('*', '?', '[...]', and '**' for any number of directories). A pattern starting with '/' is
/// anchored at the root; any other pattern may match at any depth. A pattern that matches a directory matches
/// everything below it.
/// </summary>
public sealed class PathPattern
{
    private readonly string[] _parts;
    private readonly bool _anchored;

    public string Text { get; }

    public PathPattern(string pattern)
    {
        Text = pattern;
        var p = pattern.TrimEnd('/');
        _anchored = p.StartsWith('/');
        _parts = p.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (_parts.Length == 0) throw new ArgumentException($"pattern '{pattern}' is empty");
    }

    /// <summary>Whether an absolute path (or a directory above it) matches.</summary>
    public bool Matches(string absolutePath)
    {
        var path = Components(absolutePath);
        if (_anchored) return MatchFrom(path, 0, 0, prefix: true);
        for (var start = 0; start < path.Length; start++)
            if (MatchFrom(path, start, 0, prefix: true)) return true;
        return false;
    }

    /// <summary>
    /// Whether something below the directory at <paramref name="absolutePath"/> may match (restore descends only
    /// into such directories): always for a pattern that may match at any depth; for an anchored one, when the
    /// directory's path agrees with the pattern's leading components (up to a '**').
    /// </summary>
    public bool ChildMayMatch(string absolutePath)
    {
        if (!_anchored) return true;
        var path = Components(absolutePath);
        var wildcard = Array.IndexOf(_parts, "**");
        var n = Math.Min(wildcard < 0 ? path.Length : Math.Min(path.Length, wildcard), _parts.Length);
        for (var i = 0; i < n; i++)
            if (!Glob(_parts[i], path[i])) return false;
        return true;
    }

    private static string[] Components(string absolutePath) => absolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);

    // prefix: the pattern may match a leading part of the path (excluding a directory excludes its contents).
    private bool MatchFrom(string[] path, int i, int j, bool prefix)
    {
        if (j == _parts.Length) return i == path.Length || prefix;
        if (_parts[j] == "**")
        {
            for (var k = i; k <= path.Length; k++)
                if (MatchFrom(path, k, j + 1, prefix)) return true;
            return false;
        }
        return i < path.Length && Glob(_parts[j], path[i]) && MatchFrom(path, i + 1, j + 1, prefix);
    }

    internal static bool Glob(ReadOnlySpan<char> pattern, ReadOnlySpan<char> name)
    {
        while (pattern.Length > 0)
        {
            switch (pattern[0])
            {
                case '*':
                    for (var k = 0; k <= name.Length; k++)
                        if (Glob(pattern[1..], name[k..])) return true;
                    return false;
                case '?':
                    if (name.Length == 0) return false;
                    break;
                case '[':
                    var close = pattern.IndexOf(']');
                    if (close < 0 || name.Length == 0) return false;
                    var set = pattern[1..close];
                    var negate = set.Length > 0 && (set[0] == '^' || set[0] == '!');
                    if (negate) set = set[1..];
                    var hit = false;
                    for (var k = 0; k < set.Length; k++)
                    {
                        if (k + 2 < set.Length && set[k + 1] == '-')
                        {
                            hit |= name[0] >= set[k] && name[0] <= set[k + 2];
                            k += 2;
                        }
                        else hit |= name[0] == set[k];
                    }
                    if (hit == negate) return false;
                    pattern = pattern[(close + 1)..];
                    name = name[1..];
                    continue;
                case '\\' when pattern.Length > 1:
                    if (name.Length == 0 || name[0] != pattern[1]) return false;
                    pattern = pattern[2..];
                    name = name[1..];
                    continue;
                default:
                    if (name.Length == 0 || name[0] != pattern[0]) return false;
                    break;
            }
            pattern = pattern[1..];
            name = name[1..];
        }
        return name.Length == 0;
    }
}
