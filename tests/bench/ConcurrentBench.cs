using System.Diagnostics;
using System.Text.Json;
using static Bench.Measure;

namespace Bench;

/// <summary>
/// Two sources at once (the random and the text input), each fed through a pipe by another process, as dumps
/// are. Ours: one `run --config` with two command sources (`cat FILE`), concurrency 2. restic: two
/// `cat FILE | restic backup --stdin` pipelines (the seeds' `pg_dump | restic`) started together into one repository.
/// Wall time runs until both have ended; restic's peak RSS is the sum of both processes' peaks.
/// Median of three alternating rounds, each into a fresh repository.
/// </summary>
public static class ConcurrentBench
{
    private sealed record Figures(double Seconds, double RssMiB, double StoredMiB);

    public static async Task RunAsync(string agent, Inputs inputs, string work)
    {
        var (random, text) = await inputs.GetAsync();
        var mib = inputs.MiB;
        Console.WriteLine();
        Console.WriteLine($"concurrent: two {mib} MiB sources at once (random + text) into a new repository; median of {Rounds} alternating rounds");
        Console.WriteLine("  ours: one `run --config`, two command sources (cat FILE), concurrency 2; restic: two `cat FILE | restic backup --stdin`");
        Console.WriteLine("  started together; wall time until both end; restic's peak RSS is the sum of both processes' peaks");
        Header();
        var ours = new List<Figures>();
        var theirs = new List<Figures>();
        for (var round = 0; round < Rounds; round++)
        {
            ours.Add(await OursAsync(agent, Path.Combine(work, $"conc-ours-{round}"), random, text));
            theirs.Add(await ResticAsync(Path.Combine(work, $"conc-restic-{round}"), random, text));
        }
        var total = 2.0 * mib;
        Row("2 sources: MiB/s (both / wall)", total / Median(ours, f => f.Seconds), total / Median(theirs, f => f.Seconds), higherIsBetter: true);
        Row("2 sources: peak RSS MiB", Median(ours, f => f.RssMiB), Median(theirs, f => f.RssMiB), higherIsBetter: false);
        Row("2 sources: stored MiB", Median(ours, f => f.StoredMiB), Median(theirs, f => f.StoredMiB), higherIsBetter: false);
        Console.WriteLine("target: throughput ratio >= 2.00x, RSS ratio (restic/ours) >= 1.00x");
    }

    private static async Task<Figures> OursAsync(string agent, string repo, string random, string text)
    {
        await InitAsync(agent, repo);
        var config = repo + ".json";
        var json = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["repository"] = repo,
            ["password"] = new Dictionary<string, string> { ["value"] = Password },
            ["concurrency"] = 2,
            ["sources"] = new[]
            {
                new Dictionary<string, object> { ["name"] = "random", ["kind"] = "command", ["command"] = new[] { "cat", random }, ["filename"] = "random.bin" },
                new Dictionary<string, object> { ["name"] = "text", ["kind"] = "command", ["command"] = new[] { "cat", text }, ["filename"] = "text.sql" },
            },
        });
        await File.WriteAllTextAsync(config, json);
        var clock = Stopwatch.StartNew();
        var run = await Measure.RunAsync([agent, "--quiet", "run", "--config", config]);
        var seconds = clock.Elapsed.TotalSeconds;
        var figures = new Figures(seconds, run.RssMiB, DataMiB(repo));
        Directory.Delete(repo, recursive: true);
        File.Delete(config);
        return figures;
    }

    private static async Task<Figures> ResticAsync(string repo, string random, string text)
    {
        await InitAsync("restic", repo);
        var clock = Stopwatch.StartNew();
        var both = await Task.WhenAll(PipedAsync(repo, random, "random.bin"), PipedAsync(repo, text, "text.sql"));
        var seconds = clock.Elapsed.TotalSeconds;
        var figures = new Figures(seconds, both.Sum(t => t.RssMiB), DataMiB(repo));
        Directory.Delete(repo, recursive: true);
        return figures;
    }

    /// <summary>`cat FILE | restic backup --stdin`: fed through a pipe by another process, as ours is and as the seeds fed it pg_dump.</summary>
    private static Task<Timed> PipedAsync(string repo, string file, string name) =>
        Measure.RunAsync(["sh", "-c", "cat \"$1\" | restic --no-cache backup --stdin --stdin-filename \"$2\"", "sh", file, name], env: RepoEnvironment(repo));
}
