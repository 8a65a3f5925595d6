namespace Backups.Core.Filtering;

/// <summary>
/// restic's path patterns (internal/filter): Go filepath.Match globs per path component, "**" for any number of
/// components; a pattern starting with "/" is anchored at the root, any other matches a run of components
/// anywhere in the path (so "dir" matches "/a/dir" and everything below it).
/// </summary>
public sealed class PathPattern
{
    private readonly string[] _parts;

    public PathPattern(string pattern)
    {
        Text = pattern;
        // As restic: a leading '!' is dropped (it negates only in exclude lists).
        var p = pattern.StartsWith('!') ? pattern[1..] : pattern;
        _parts = Split(GoPath.Clean(p)).Select(part => part == "**" ? "" : part).ToArray();
        foreach (var part in _parts)
            if (!GoGlob.IsValid(part)) throw new ArgumentException($"pattern '{pattern}' is malformed (at '{part}')");
    }

    public string Text { get; }

    /// <summary>Whether the clean absolute path ("/a/b") matches.</summary>
    public bool Matches(string path) => Text == "" || Match(_parts, Split(path));

    /// <summary>Whether something below the path could match (restic's ChildMatch).</summary>
    public bool ChildMayMatch(string path)
    {
        if (Text == "" || _parts[0] != "/") return true;
        var strs = Split(path);
        var wildcard = Array.IndexOf(_parts, "");
        if (wildcard >= 0 && strs.Length >= wildcard) strs = strs[..wildcard];
        var l = Math.Min(strs.Length, _parts.Length);
        return Match(_parts[..l], strs);
    }

    private static string[] Split(string path)
    {
        var parts = path.Split('/');
        if (parts[0] == "") parts[0] = "/";
        return parts;
    }

    private static bool Match(string[] parts, string[] strs)
    {
        var wildcard = Array.IndexOf(parts, "");
        if (wildcard >= 0)
        {
            // "**" stands for zero, one, two ... single-component wildcards.
            for (var i = 0; i <= strs.Length - parts.Length + 1; i++)
            {
                string[] expanded = [.. parts[..wildcard], .. Enumerable.Repeat("*", i), .. parts[(wildcard + 1)..]];
                if (Match(expanded, strs)) return true;
            }
            return false;
        }
        if (parts.Length == 0) return strs.Length == 0;
        if (parts.Length > strs.Length) return false;
        int min = 0, max = strs.Length - parts.Length;
        if (parts[0] == "/") max = 0;
        else if (strs[0] == "/") min = 1;
        for (var offset = max; offset >= min; offset--)
        {
            var all = true;
            for (var i = parts.Length - 1; i >= 0 && all; i--) all = GoGlob.Match(parts[i], strs[offset + i]);
            if (all) return true;
        }
        return false;
    }
}
