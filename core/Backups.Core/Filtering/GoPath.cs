namespace Backups.Core.Filtering;

/// <summary>Go's path.Clean: one slash between components, no "." components, ".." resolved, no trailing slash.</summary>
public static class GoPath
{
    public static string Clean(string path)
    {
        if (path == "") return ".";
        var rooted = path[0] == '/';
        var parts = new List<string>();
        foreach (var part in path.Split('/'))
        {
            if (part is "" or ".") continue;
            if (part == ".." && parts.Count > 0 && parts[^1] != "..") parts.RemoveAt(parts.Count - 1);
            else if (part != ".." || !rooted) parts.Add(part);
        }
        var joined = string.Join('/', parts);
        return rooted ? "/" + joined : joined == "" ? "." : joined;
    }
}
