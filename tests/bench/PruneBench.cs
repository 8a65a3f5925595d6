using static Bench.Measure;

namespace Bench;

/// <summary>
/// Prune after forget: a restic-written repository of many small files of random content (one data blob each),
/// four directories backed up as four snapshots that overlap pairwise; the two oldest are forgotten, which
/// leaves about half of the blobs unused. Copied twice: `restic prune` runs on one copy, ours on the other
/// (both with the default --max-unused 5%); then restic checks ours.
/// </summary>
public static class PruneBench
{
    public static async Task RunAsync(string agent, string work, int files)
    {
        var perDir = files / 4;
        Console.WriteLine();
        Console.WriteLine($"prune: {4 * perDir:N0} files of 256-768 random bytes in 4 directories, snapshots d1+d2, d2+d3, d3+d4, d4; the first two forgotten");
        var source = Path.Combine(work, "prune-source");
        var random = new Random(7);
        var dirs = new string[4];
        for (var d = 0; d < 4; d++)
        {
            dirs[d] = Path.Combine(source, $"d{d + 1}");
            Directory.CreateDirectory(dirs[d]);
            for (var i = 0; i < perDir; i++)
            {
                var bytes = new byte[random.Next(256, 769)];
                random.NextBytes(bytes);
                File.WriteAllBytes(Path.Combine(dirs[d], $"f{i:D6}"), bytes);
            }
        }

        var repo = Path.Combine(work, "prune-repo");
        await InitAsync("restic", repo);
        string[][] snapshots = [[dirs[0], dirs[1]], [dirs[1], dirs[2]], [dirs[2], dirs[3]], [dirs[3]]];
        foreach (var paths in snapshots) await RepoCommandAsync("restic", repo, ["backup", "-q", .. paths]);
        var ids = (await RepoCommandAsync("restic", repo, ["snapshots", "-q", "--json"])).Stdout;
        var forget = System.Text.Json.JsonDocument.Parse(ids).RootElement.EnumerateArray()
            .OrderBy(s => s.GetProperty("time").GetDateTimeOffset()).Take(2).Select(s => s.GetProperty("id").GetString()!).ToArray();
        await RepoCommandAsync("restic", repo, ["forget", "-q", .. forget]);
        Directory.Delete(source, recursive: true);

        var theirs = Path.Combine(work, "prune-restic");
        var ours = Path.Combine(work, "prune-ours");
        await CopyDirectoryAsync(repo, theirs);
        await CopyDirectoryAsync(repo, ours);
        var before = DataMiB(repo);
        Directory.Delete(repo, recursive: true);

        var r = await RepoCommandAsync("restic", theirs, ["prune"]);
        var o = await RepoCommandAsync(agent, ours, ["prune"]);
        await RepoCommandAsync("restic", ours, ["check", "-q"]);
        Console.WriteLine($"data/ before: {before:F1} MiB; after restic's prune {DataMiB(theirs):F1} MiB, after ours {DataMiB(ours):F1} MiB (restic check of ours: ok)");
        Header();
        Row("prune: seconds", o.Seconds, r.Seconds, higherIsBetter: false);
        Row("prune: peak RSS MiB", o.RssMiB, r.RssMiB, higherIsBetter: false);
        Directory.Delete(theirs, recursive: true);
        Directory.Delete(ours, recursive: true);
    }
}
