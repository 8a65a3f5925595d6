using System.Diagnostics;
using System.Globalization;
using Backups.Tests.Support;

namespace Bench;

/// <summary>
/// Runs backup-agent and restic on the same inputs in the same run and prints each figure with its ratio.
/// Usage: Bench AGENT_BINARY [SIZE_MIB]. Figures come from GNU time (wall seconds, peak RSS) and the size
/// of the repositories' data/ folders.
/// </summary>
public static class Program
{
    private const string Password = "bench-password";

    public static async Task<int> Main(string[] args)
    {
        if (args.Length < 1) { Console.Error.WriteLine("usage: Bench AGENT_BINARY [SIZE_MIB]"); return 2; }
        var agent = Path.GetFullPath(args[0]);
        var mib = args.Length > 1 ? long.Parse(args[1], CultureInfo.InvariantCulture) : 1024;
        var work = Directory.CreateTempSubdirectory("backup-bench-").FullName;
        try
        {
            var random = Generate(work, "random.bin", TestData.Kind.Random, mib);
            var text = Generate(work, "text.sql", TestData.Kind.Text, mib);
            // The inputs' own writeback must not compete with the first measurement's fsyncs.
            using (var sync = Process.Start("sync")!) await sync.WaitForExitAsync();
            Console.WriteLine($"inputs: {mib} MiB each; machine: {Environment.ProcessorCount} cores; median of {Rounds} alternating rounds");
            Console.WriteLine($"{"case",-34} {"ours",12} {"restic",12} {"ratio",8}");

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
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private const int Rounds = 3;

    private sealed record Figures(double Seconds, double RssMiB, double StoredMiB, double RepeatSeconds);

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

    private static double Median(List<Figures> figures, Func<Figures, double> pick) =>
        figures.Select(pick).Order().ElementAt(figures.Count / 2);

    private static void Row(string name, double ours, double restic, bool higherIsBetter)
    {
        var ratio = higherIsBetter ? ours / restic : restic / ours;
        Console.WriteLine($"{name,-34} {ours,12:F1} {restic,12:F1} {ratio,7:F2}x" + (higherIsBetter ? "" : " (restic/ours)"));
    }

    private static string Generate(string dir, string name, TestData.Kind kind, long mib)
    {
        var path = Path.Combine(dir, name);
        using var data = new TestData(kind, mib << 20, seed: 42);
        using var file = File.Create(path);
        data.CopyTo(file, 1 << 20);
        return path;
    }

    private static double DataMiB(string repo) =>
        new DirectoryInfo(Path.Combine(repo, "data")).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length) / 1048576.0;

    private static async Task InitAsync(string program, string repo) => await RunAsync(program, repo, ["init"], null);

    private static Task<(double Seconds, double RssMiB)> BackupAsync(string program, string repo, string input) =>
        RunAsync(program, repo, ["backup", "--stdin", "--stdin-filename", "data"], input);

    /// <summary>Runs under GNU time and returns wall seconds and peak RSS. The input file is the program's
    /// stdin through a shell redirect, so no third process spends CPU feeding it.</summary>
    private static async Task<(double Seconds, double RssMiB)> RunAsync(string program, string repo, string[] args, string? stdinFile)
    {
        var timeFile = Path.GetTempFileName();
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec /usr/bin/time -f '%e %M' -o \"$TIME_FILE\" \"$@\" < \"$INPUT_FILE\"");
        psi.ArgumentList.Add("sh");
        foreach (var a in (string[])[program, program == "restic" ? "--no-cache" : "--quiet", .. args]) psi.ArgumentList.Add(a);
        psi.Environment["TIME_FILE"] = timeFile;
        psi.Environment["INPUT_FILE"] = stdinFile ?? "/dev/null";
        psi.Environment["RESTIC_REPOSITORY"] = repo;
        psi.Environment["RESTIC_PASSWORD"] = Password;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        await Task.WhenAll(stdout, stderr);
        if (p.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed: {await stderr}");
        var fields = File.ReadAllText(timeFile).Trim().Split('\n')[^1].Split(' ');
        File.Delete(timeFile);
        return (double.Parse(fields[0], CultureInfo.InvariantCulture), double.Parse(fields[1], CultureInfo.InvariantCulture) / 1024);
    }
}
