using Backups.Core.FileSystem;

namespace Backups.Core.Filtering;

/// <summary>Go's filepath.Glob, as restic expands the lines of --files-from: the names that exist and match, in
/// name order within each directory; a pattern without wildcards names itself when it exists.</summary>
public static class GoFileGlob
{
    /// <exception cref="ArgumentException">The pattern is malformed.</exception>
    public static List<string> Expand(string pattern)
    {
        if (!GoGlob.IsValid(pattern)) throw new ArgumentException($"syntax error in pattern: {pattern}");
        if (!HasWildcards(pattern)) return Exists(pattern) ? [pattern] : [];
        var slash = pattern.LastIndexOf('/');
        var (dir, file) = (pattern[..(slash + 1)], pattern[(slash + 1)..]);
        dir = dir == "" ? "." : dir == "/" ? dir : dir[..^1];
        if (!HasWildcards(dir)) return Matches(dir, file);
        if (dir == pattern) throw new ArgumentException($"syntax error in pattern: {pattern}");
        return [.. Expand(dir).SelectMany(d => Matches(d, file))];
    }

    private static bool HasWildcards(string path) => path.IndexOfAny(['*', '?', '[', '\\']) >= 0;

    private static bool Exists(string path) => File.Exists(path) || Directory.Exists(path) || new FileInfo(path).LinkTarget != null;

    private static List<string> Matches(string dir, string pattern)
    {
        if (!Directory.Exists(dir)) return [];
        string[] names;
        try
        {
            names = [.. Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).OfType<string>()];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
        Array.Sort(names, FileName.Compare);
        return [.. names.Where(n => GoGlob.Match(pattern, n)).Select(n => GoPath.Clean(dir + "/" + n))];
    }
}
