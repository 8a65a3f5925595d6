using System.Diagnostics;
using static Bench.Measure;

namespace Bench;

/// <summary>
/// Start-up: `version` (the program alone), then `snapshots` of a small repository that restic wrote (start, open
/// the repository: key derivation, config, a lock, then list). Runs take milliseconds, below GNU time's 10 ms
/// resolution, so each is timed here from start to exit, ours and restic alternating; the median of 21 runs.
/// </summary>
public static class StartupBench
{
    private const int Runs = 21;

    public static async Task RunAsync(string agent, string work)
    {
        var repo = Path.Combine(work, "startup-repo");
        var input = Path.Combine(work, "startup-input");
        await File.WriteAllTextAsync(input, "a small file\n");
        await InitAsync("restic", repo);
        for (var i = 0; i < 3; i++) await RepoCommandAsync("restic", repo, ["backup", "--stdin", "--stdin-filename", $"file{i}"], input);

        Console.WriteLine();
        Console.WriteLine($"startup: wall time from start to exit, median of {Runs} alternating runs; snapshots of a 3-snapshot repository restic wrote");
        Header();
        foreach (var (name, args) in new[] { ("version: ms", new[] { "version" }), ("snapshots (open and list): ms", ["snapshots"]) })
        {
            var ours = new List<double>();
            var theirs = new List<double>();
            for (var run = 0; run < Runs; run++)
            {
                ours.Add(await MillisecondsAsync(agent, repo, args));
                theirs.Add(await MillisecondsAsync("restic", repo, args));
            }
            Row(name, Median(ours, ms => ms), Median(theirs, ms => ms), higherIsBetter: false);
        }
        var (ourRss, resticRss) = ((await RepoCommandAsync(agent, repo, ["snapshots"])).RssMiB, (await RepoCommandAsync("restic", repo, ["snapshots"])).RssMiB);
        Row("snapshots: peak RSS MiB", ourRss, resticRss, higherIsBetter: false);
        Directory.Delete(repo, recursive: true);
        File.Delete(input);
    }

    private static async Task<double> MillisecondsAsync(string program, string repo, string[] args)
    {
        var psi = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Quiet(program));
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in RepoEnvironment(repo)) psi.Environment[k] = v;
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var (stdout, stderr) = (p.StandardOutput.ReadToEndAsync(), p.StandardError.ReadToEndAsync());
        await p.WaitForExitAsync();
        var elapsed = clock.Elapsed.TotalMilliseconds;
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({p.ExitCode}): {await stderr}\n{await stdout}");
        return elapsed;
    }
}
