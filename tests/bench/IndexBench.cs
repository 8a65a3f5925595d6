using System.Diagnostics;
using static Bench.Measure;

namespace Bench;

/// <summary>
/// The index at scale: a tree of N tiny files of distinct random content (one data blob each; restic's chunker
/// never cuts below 512 KiB, so a stream cannot make that many blobs), 1,000 to a directory. Peak RSS of
/// `backup` (each program into its own repository), then of `check` and `prune` on restic's repository (the
/// same index for both): before prune, a tenth of the files is deleted, backed up again and the first snapshot
/// forgotten, so that prune has blobs to drop; each program prunes its own copy. Bytes per blob is peak RSS over N.
/// </summary>
public static class IndexBench
{
    private const int FilesPerDirectory = 1000;

    public static async Task RunAsync(string agent, string work, int blobs)
    {
        var root = Path.Combine(work, "index-tree");
        var clock = Stopwatch.StartNew();
        var files = Generate(root, blobs);
        Console.WriteLine();
        Console.WriteLine($"index: {blobs:N0} files of 16-48 distinct random bytes (one data blob each), made in {clock.Elapsed.TotalSeconds:F0} s");
        string ours = Path.Combine(work, "index-ours"), theirs = Path.Combine(work, "index-restic");
        await InitAsync(agent, ours);
        await InitAsync("restic", theirs);
        var backup = (await RepoCommandAsync(agent, ours, ["backup", root]), await RepoCommandAsync("restic", theirs, ["backup", root]));
        var check = (await RepoCommandAsync(agent, theirs, ["check"]), await RepoCommandAsync("restic", theirs, ["check"]));

        foreach (var file in files.Where((_, i) => i % 10 == 0)) File.Delete(file);
        await RepoCommandAsync("restic", theirs, ["backup", "-q", root]);
        var first = System.Text.Json.JsonDocument.Parse((await RepoCommandAsync("restic", theirs, ["snapshots", "-q", "--json"])).Stdout)
            .RootElement.EnumerateArray().MinBy(s => s.GetProperty("time").GetDateTimeOffset()).GetProperty("id").GetString()!;
        await RepoCommandAsync("restic", theirs, ["forget", "-q", first]);
        Directory.Delete(root, recursive: true);
        var oursPrune = Path.Combine(work, "index-prune-ours");
        await CopyDirectoryAsync(theirs, oursPrune);
        var prune = (await RepoCommandAsync(agent, oursPrune, ["prune"]), await RepoCommandAsync("restic", theirs, ["prune"]));

        Header();
        foreach (var (name, o, r) in new[] { ("backup", backup.Item1, backup.Item2), ("check", check.Item1, check.Item2), ("prune", prune.Item1, prune.Item2) })
        {
            Row($"{name}: peak RSS MiB", o.RssMiB, r.RssMiB, higherIsBetter: false);
            Row($"{name}: bytes per blob", o.RssMiB * 1048576 / blobs, r.RssMiB * 1048576 / blobs, higherIsBetter: false);
            Row($"{name}: seconds", o.Seconds, r.Seconds, higherIsBetter: false);
        }
        Console.WriteLine("target: peak RSS ratio (restic/ours) >= 2.00x");
        // Peak RSS hardly depends on the machine's load, the seconds do: the load says how far to trust them.
        Console.WriteLine($"load average (1, 5, 15 min): {string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ')[..3])}");
        await RepoCommandAsync("restic", oursPrune, ["check", "-q"]);
        foreach (var dir in new[] { ours, theirs, oursPrune }) Directory.Delete(dir, recursive: true);
    }

    /// <summary>Writes the files on both cores (creating a million files is most of this case's set-up).</summary>
    private static List<string> Generate(string root, int count)
    {
        var files = Enumerable.Range(0, count).Select(i => Path.Combine(root, $"d{i / FilesPerDirectory:D5}", $"f{i % FilesPerDirectory:D3}")).ToList();
        for (var d = 0; d * FilesPerDirectory < count; d++) Directory.CreateDirectory(Path.Combine(root, $"d{d:D5}"));
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = 2 }, () => new byte[48], (i, _, buffer) =>
        {
            // 16 random bytes make every file distinct (a blob id collision is out of reach); the rest vary the size.
            var length = 16 + i % 33;
            Random.Shared.NextBytes(buffer.AsSpan(0, length));
            File.WriteAllBytes(files[i], buffer.AsSpan(0, length));
            return buffer;
        }, _ => { });
        return files;
    }
}
