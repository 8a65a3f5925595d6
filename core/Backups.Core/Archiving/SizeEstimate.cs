using Backups.Core.Filtering;
namespace Backups.Core.Archiving;

/// <summary>
/// The bytes a paths backup will read, counted by a quick walk beside the backup itself, so progress can
/// show an ETA. Unreadable folders are skipped: the figure is an estimate, not a promise.
/// </summary>
public static class SizeEstimate
{
    public static long Of(IReadOnlyList<string> absolutePaths, IReadOnlyList<PathPattern> excludes, CancellationToken ct) =>
        Of(absolutePaths, Exclusions.Of(excludes), ct);

    /// <summary>As above; only the exclusions by name are applied (the figure is an estimate).</summary>
    public static long Of(IReadOnlyList<string> absolutePaths, Exclusions exclusions, CancellationToken ct)
    {
        long total = 0;
        var pending = new Stack<string>(absolutePaths);
        while (pending.Count > 0)
        {
            ct.ThrowIfCancellationRequested();
            var path = pending.Pop();
            if (exclusions.ExcludesByName(path)) continue;
            var info = new FileInfo(path);
            if (info.LinkTarget != null) continue;
            if (info.Exists)
            {
                total += info.Length;
                continue;
            }
            try
            {
                foreach (var entry in Directory.EnumerateFileSystemEntries(path)) pending.Push(entry);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return total;
    }
}
