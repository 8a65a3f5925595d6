using System.Diagnostics;
using System.Security.Cryptography;
using BackupAgent.Run;
using Backups.Core.Archiving;
using Backups.Core.FileSystem;
using Backups.Core.Restoring;
using Backups.Core.Snapshots;
using Backups.Core.Trees;
using Repo = Backups.Core.Repositories.Repository;

namespace BackupAgent.Drills;

/// <summary>
/// Restores a paths source's whole snapshot into a temporary directory, then compares a sample of the
/// restored files with the snapshot's sizes and, where the original is still unchanged on disk (same size and
/// mtime), with the original's SHA-256.
/// </summary>
public static class PathsDrill
{
    public static async Task RunAsync(Repo repo, Snapshot snapshot, SourceConfig source, SourceDrill drill, CancellationToken ct)
    {
        using var dir = new DrillDirectory();
        drill.RestoredInto = $"temporary directory {dir.Path}";
        var restorer = new Restorer(repo);
        var clock = Stopwatch.StartNew();
        await restorer.RestoreAsync(snapshot.Tree, dir.Path, ct);
        drill.RestoreSeconds = Math.Round(clock.Elapsed.TotalSeconds, 3);
        drill.RestoreBytes = restorer.Bytes;

        var files = new List<(string Path, Node Node)>();
        await foreach (var (path, node) in TreeWalker.WalkAsync(repo, snapshot.Tree, ct: ct))
            if (node.Type == Node.File) files.Add((path, node));
        drill.Check("files", restorer.Files == files.Count, files.Count.ToString(), restorer.Files.ToString());

        var sample = (source.Drill ?? new DrillConfig()).SampleFiles;
        // Evenly spread over the tree's order, so the sample reaches every directory of a large snapshot.
        var step = Math.Max(1.0, (double)files.Count / sample);
        for (var i = 0.0; i < files.Count && (int)(i / step) < sample; i += step)
        {
            var (path, node) = files[(int)i];
            await CompareAsync(dir.Path + path, path, node, drill, ct);
        }
    }

    private static async Task CompareAsync(string restored, string original, Node node, SourceDrill drill, CancellationToken ct)
    {
        var size = new FileInfo(restored).Length;
        if (size != (long)node.Size)
        {
            drill.Check($"file {original}", false, $"{node.Size} bytes", $"{size} bytes", "the restored size differs from the snapshot's");
            return;
        }
        var restoredHash = await HashAsync(restored, ct);
        if (!Unchanged(original, node))
        {
            drill.Check($"file {original}", true, $"{node.Size} bytes", $"{size} bytes, sha256 {restoredHash}",
                "the original changed since the backup: size compared, not content");
            return;
        }
        var originalHash = await HashAsync(original, ct);
        drill.Check($"file {original}", originalHash == restoredHash, $"sha256 {originalHash}", $"sha256 {restoredHash}",
            originalHash == restoredHash ? null : "the restored content differs from the unchanged original");
    }

    /// <summary>restic's own change test: same size and modification time.</summary>
    private static bool Unchanged(string path, Node node)
    {
        try
        {
            var stat = FileStat.Lstat(path);
            return stat.IsRegular && stat.Size == node.Size && stat.MTimeSec == node.ModTime.UnixSeconds && stat.MTimeNsec == node.ModTime.Nanoseconds;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static async Task<string> HashAsync(string path, CancellationToken ct)
    {
        await using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(f, ct));
    }
}
