using Backups.Core.FileSystem;

namespace Backups.Core.Archiving;

/// <summary>
/// Where each backup target goes in the snapshot's tree, laid out as restic lays it out: an absolute path keeps
/// every component (/srv/app/data is srv, app, data below the root), a relative one keeps only its own (`backup
/// dir` puts dir at the root, `../x` puts x there); a target that names no component ("." or "/") stands for
/// its entries. Two targets whose first components clash but come from different places get name-1, name-2.
/// </summary>
internal sealed class BackupTargets
{
    /// <summary>A directory of the snapshot: its entries, and where it is read.</summary>
    public sealed class Level
    {
        public SortedDictionary<string, Level> Children { get; } = new(Comparer<string>.Create(FileName.Compare));

        /// <summary>A target saved here whole (an absolute path), or null for a directory on the way to targets.</summary>
        public string? Target { get; set; }

        /// <summary>The absolute path whose metadata this directory on the way takes.</summary>
        public string? MetadataPath { get; set; }

        /// <summary>The directory the target's path was relative to ("/" for an absolute one), to tell clashing
        /// first components apart.</summary>
        public string Origin { get; init; } = "";
    }

    public static Level Layout(IReadOnlyList<string> targets)
    {
        var root = new Level();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var target in Expand(targets))
            if (seen.Add(target)) Add(root, target);
        return root;
    }

    private static void Add(Level root, string target)
    {
        var absolute = target.StartsWith('/');
        var parts = Components("/" + target);
        var origin = absolute ? "/" : string.Join('/', Components(target, keepParents: true).TakeWhile(c => c == "..").DefaultIfEmpty("."));
        var name = parts[0];
        Level level;
        for (var i = 1; ; i++)
        {
            if (!root.Children.TryGetValue(name, out level!)) root.Children[name] = level = new Level { Origin = origin };
            if (level.Origin == origin) break;
            name = $"{parts[0]}-{i}";
        }
        var path = Path.GetFullPath(FileName.Join(origin, parts[0]));
        for (var i = 1; i < parts.Count; i++)
        {
            level.MetadataPath = path;
            level = level.Children.TryGetValue(parts[i], out var child) ? child : level.Children[parts[i]] = new Level();
            path = FileName.Join(path, parts[i]);
        }
        level.Target = Path.GetFullPath(target);
    }

    /// <summary>Cleaned targets, those without components replaced by their entries (in name order).</summary>
    private static IEnumerable<string> Expand(IReadOnlyList<string> targets)
    {
        foreach (var raw in targets)
        {
            var target = Clean(raw);
            if (Components("/" + target).Count > 0)
            {
                yield return target;
                continue;
            }
            using var dir = DirectoryHandle.Open(target);
            var names = dir.ReadNames();
            names.Sort(FileName.Compare);
            foreach (var name in names) yield return FileName.Join(target, name);
        }
    }

    /// <summary>Go's path.Clean: no empty or "." components, ".." resolved where it can be.</summary>
    public static string Clean(string path)
    {
        var parts = Components(path, keepParents: !path.StartsWith('/'));
        var joined = string.Join('/', parts);
        return path.StartsWith('/') ? "/" + joined : joined.Length == 0 ? "." : joined;
    }

    /// <summary>The components of a path; leading ".." of a relative path are kept only when asked.</summary>
    private static List<string> Components(string path, bool keepParents = false)
    {
        var parts = new List<string>();
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".") continue;
            if (part == ".." && parts.Count > 0 && parts[^1] != "..") parts.RemoveAt(parts.Count - 1);
            else if (part != ".." || keepParents && !path.StartsWith('/')) parts.Add(part);
        }
        return parts;
    }
}
