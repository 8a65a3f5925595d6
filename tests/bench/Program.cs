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
            Console.WriteLine($"inputs: {mib} MiB each; machine: {Environment.ProcessorCount} cores");
            Console.WriteLine($"{"case",-34} {"ours",12} {"restic",12} {"ratio",8}");

            foreach (var (name, input) in new[] { ("random", random), ("text", text) })
            {
                var ours = Path.Combine(work, $"ours-{name}");
                var theirs = Path.Combine(work, $"restic-{name}");
                await InitAsync(agent, ours);
                await InitAsync("restic", theirs);

                var o = await BackupAsync(agent, ours, input);
                var r = await BackupAsync("restic", theirs, input);
                Row($"{name}: backup --stdin MiB/s", mib / o.Seconds, mib / r.Seconds, higherIsBetter: true);
                Row($"{name}: peak RSS MiB", o.RssMiB, r.RssMiB, higherIsBetter: false);
                Row($"{name}: stored MiB", DataMiB(ours), DataMiB(theirs), higherIsBetter: false);

                var o2 = await BackupAsync(agent, ours, input);
                var r2 = await BackupAsync("restic", theirs, input);
                Row($"{name}: repeat (dedup) MiB/s", mib / o2.Seconds, mib / r2.Seconds, higherIsBetter: true);
            }
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

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

    /// <summary>Runs under GNU time and returns wall seconds and peak RSS.</summary>
    private static async Task<(double Seconds, double RssMiB)> RunAsync(string program, string repo, string[] args, string? stdinFile)
    {
        var timeFile = Path.GetTempFileName();
        var psi = new ProcessStartInfo("/usr/bin/time") { UseShellExecute = false, RedirectStandardInput = stdinFile != null, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])["-f", "%e %M", "-o", timeFile, program, "--no-cache", .. args])
            psi.ArgumentList.Add(program == "restic" || a != "--no-cache" ? a : "--quiet");
        psi.Environment["RESTIC_REPOSITORY"] = repo;
        psi.Environment["RESTIC_PASSWORD"] = Password;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdinFile != null)
        {
            await using (var input = File.OpenRead(stdinFile)) await input.CopyToAsync(p.StandardInput.BaseStream);
            p.StandardInput.Close();
        }
        await p.WaitForExitAsync();
        await Task.WhenAll(stdout, stderr);
        if (p.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed: {await stderr}");
        var fields = File.ReadAllText(timeFile).Trim().Split('\n')[^1].Split(' ');
        File.Delete(timeFile);
        return (double.Parse(fields[0], CultureInfo.InvariantCulture), double.Parse(fields[1], CultureInfo.InvariantCulture) / 1024);
    }
}
