namespace Backups.Core.Filtering;

/// <summary>Go's filepath.Match for one path component: '*', '?', '[class]' ('^' negates, ranges lo-hi) and
/// '\' escapes; the syntax checked up front, as Go reports a malformed pattern.</summary>
public static class GoGlob
{
    public static bool IsValid(string pattern)
    {
        for (var i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] == '\\')
            {
                if (++i == pattern.Length) return false;
            }
            else if (pattern[i] == '[')
            {
                var end = ParseClass(pattern, i, '\0', out _);
                if (end < 0) return false;
                i = end - 1;
            }
        }
        return true;
    }

    public static bool Match(string pattern, string name) => Match(pattern.AsSpan(), name.AsSpan());

    private static bool Match(ReadOnlySpan<char> pattern, ReadOnlySpan<char> name)
    {
        while (pattern.Length > 0)
        {
            switch (pattern[0])
            {
                case '*':
                    var rest = pattern.TrimStart('*');
                    for (var k = 0; k <= name.Length; k++)
                        if (Match(rest, name[k..])) return true;
                    return false;
                case '?':
                    if (name.IsEmpty) return false;
                    pattern = pattern[1..];
                    break;
                case '[':
                    if (name.IsEmpty) return false;
                    var end = ParseClass(pattern.ToString(), 0, name[0], out var hit);
                    if (end < 0 || !hit) return false;
                    pattern = pattern[end..];
                    break;
                case '\\':
                    if (pattern.Length < 2 || name.IsEmpty || name[0] != pattern[1]) return false;
                    pattern = pattern[2..];
                    break;
                default:
                    if (name.IsEmpty || name[0] != pattern[0]) return false;
                    pattern = pattern[1..];
                    break;
            }
            name = name[1..];
        }
        return name.IsEmpty;
    }

    /// <summary>Reads the class starting at <paramref name="start"/> ('['); returns the index after its ']' (-1 when
    /// malformed) and whether <paramref name="c"/> is in it.</summary>
    private static int ParseClass(string p, int start, char c, out bool hit)
    {
        hit = false;
        var i = start + 1;
        var negated = i < p.Length && p[i] == '^';
        if (negated) i++;
        var ranges = 0;
        while (true)
        {
            if (i < p.Length && p[i] == ']' && ranges > 0) break;
            if (!Escaped(p, ref i, out var lo)) return -1;
            var hi = lo;
            if (i < p.Length && p[i] == '-')
            {
                i++;
                if (!Escaped(p, ref i, out hi)) return -1;
            }
            if (lo <= c && c <= hi) hit = true;
            ranges++;
        }
        hit ^= negated;
        return i + 1;
    }

    private static bool Escaped(string p, ref int i, out char c)
    {
        c = '\0';
        if (i >= p.Length || p[i] is '-' or ']') return false;
        if (p[i] == '\\' && ++i >= p.Length) return false;
        c = p[i++];
        return true;
    }
}
