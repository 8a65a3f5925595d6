using static Bench.Measure;

namespace Bench;

/// <summary>
/// `backup --stdin` of one generated input (random, then text) into a new repository, then the same input again
/// (all deduplicated); ours and restic alternate, median of three rounds.
/// </summary>
public static class StdinBench
{
    private sealed record Figures(double Seconds, double RssMiB, double StoredMiB, double RepeatSeconds);

    public static async Task RunAsync(string agent, Inputs inputs, string work)
    {
        var (random, text) = await inputs.GetAsync();
        var mib = inputs.MiB;
        Console.WriteLine($"inputs: {mib} MiB each; machine: {Environment.ProcessorCount} cores; median of {Rounds} alternating rounds");
        Header();

        foreach (var (name, input) in new[] { ("random", random), ("text", text) })
        {
            var ours = new List<Figures>();
            var theirs = new List<Figures>();
            for (var round = 0; round < Rounds; round++)
            {
                ours.Add(await MeasureAsync(agent, Path.Combine(work, $"ours-{name}-{round}"), input));
                theirs.Add(await MeasureAsync("restic", Path.Combine(work, $"restic-{name}-{round}"), input));
            }
            Row($"{name}: backup --stdin MiB/s", mib / Median(ours, f => f.Seconds), mib / Median(theirs, f => f.Seconds), higherIsBetter: true);
            Row($"{name}: peak RSS MiB", Median(ours, f => f.RssMiB), Median(theirs, f => f.RssMiB), higherIsBetter: false);
            Row($"{name}: stored MiB", Median(ours, f => f.StoredMiB), Median(theirs, f => f.StoredMiB), higherIsBetter: false);
            Row($"{name}: repeat (dedup) MiB/s", mib / Median(ours, f => f.RepeatSeconds), mib / Median(theirs, f => f.RepeatSeconds), higherIsBetter: true);
        }
    }

    /// <summary>A first backup into a new repository, then the same input again (all deduplicated).</summary>
    private static async Task<Figures> MeasureAsync(string program, string repo, string input)
    {
        await InitAsync(program, repo);
        var first = await BackupAsync(program, repo, input);
        var stored = DataMiB(repo);
        var repeat = await BackupAsync(program, repo, input);
        Directory.Delete(repo, recursive: true);
        return new Figures(first.Seconds, first.RssMiB, stored, repeat.Seconds);
    }

    private static Task<Timed> BackupAsync(string program, string repo, string input) =>
        RepoCommandAsync(program, repo, ["backup", "--stdin", "--stdin-filename", "data"], input);
}
