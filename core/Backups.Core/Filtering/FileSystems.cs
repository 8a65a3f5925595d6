using Backups.Core.FileSystem;

namespace Backups.Core.Filtering;

/// <summary>
/// restic's --one-file-system: an entry is kept when it is on the file system of the target it is under; a
/// directory on another one is kept only when it is a mount point (its parent is kept), and then empty.
/// </summary>
public sealed class FileSystems
{
    private readonly Dictionary<string, ulong> _deviceOfTarget;

    /// <param name="absoluteTargets">The backup's targets, absolute.</param>
    public FileSystems(IEnumerable<string> absoluteTargets) =>
        _deviceOfTarget = absoluteTargets.Select(GoPath.Clean).Distinct(StringComparer.Ordinal)
            .ToDictionary(t => t, t => FileStat.Lstat(t).Device, StringComparer.Ordinal);

    public bool Excludes(string path, FileStat stat)
    {
        path = GoPath.Clean(path);
        if (IsAllowed(path, stat.Device)) return false;
        if (!stat.IsDirectory) return true;
        var parent = Parent(path);
        try
        {
            return !IsAllowed(parent, FileStat.Lstat(parent).Device);
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>Whether the nearest target at or above the path is on this device.</summary>
    private bool IsAllowed(string path, ulong device)
    {
        for (var dir = path; ; dir = Parent(dir))
        {
            if (_deviceOfTarget.TryGetValue(dir, out var allowed)) return allowed == device;
            if (dir == "/") return false;
        }
    }

    private static string Parent(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash <= 0 ? "/" : path[..slash];
    }
}
