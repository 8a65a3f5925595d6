using static Bench.Measure;

namespace Bench;

/// <summary>
/// `check --read-data` of one repository written by restic (a backup of the random and the text input):
/// `restic check --read-data` against ours on the same files, median of three alternating rounds.
/// </summary>
public static class CheckBench
{
    public static async Task RunAsync(string agent, Inputs inputs, string work)
    {
        var (random, text) = await inputs.GetAsync();
        var repo = Path.Combine(work, "check-restic");
        await InitAsync("restic", repo);
        await RepoCommandAsync("restic", repo, ["backup", random, text]);
        var stored = DataMiB(repo);
        Console.WriteLine();
        Console.WriteLine($"check: `check --read-data` of a repository restic wrote ({inputs.MiB} MiB random + {inputs.MiB} MiB text, {stored:F0} MiB stored);");
        Console.WriteLine($"  median of {Rounds} alternating rounds");
        Header();
        var ours = new List<Timed>();
        var theirs = new List<Timed>();
        for (var round = 0; round < Rounds; round++)
        {
            ours.Add(await RepoCommandAsync(agent, repo, ["check", "--read-data"]));
            theirs.Add(await RepoCommandAsync("restic", repo, ["check", "--read-data"]));
        }
        Row("check --read-data: MiB/s", stored / Median(ours, t => t.Seconds), stored / Median(theirs, t => t.Seconds), higherIsBetter: true);
        Row("check --read-data: seconds", Median(ours, t => t.Seconds), Median(theirs, t => t.Seconds), higherIsBetter: false);
        Row("check --read-data: peak RSS MiB", Median(ours, t => t.RssMiB), Median(theirs, t => t.RssMiB), higherIsBetter: false);
        Console.WriteLine("target: throughput ratio >= 1.00x");
        Directory.Delete(repo, recursive: true);
    }
}
