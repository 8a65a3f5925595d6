using System.Diagnostics;
using System.Globalization;
using Backups.Tests.Support;

namespace Bench;

/// <summary>What one program run cost, by GNU time, and what it printed.</summary>
public sealed record Timed(double Seconds, double RssMiB, string Stdout, string Stderr);

/// <summary>The pieces every case shares: running programs under GNU time, inputs, repository sizes, printing.</summary>
public static class Measure
{
    public const string Password = "bench-password";
    public const int Rounds = 3;

    /// <summary>
    /// Runs a program under GNU time and returns wall seconds, peak RSS and its output. The input file is the
    /// program's stdin through a shell redirect, so no third process spends CPU feeding it. GNU time reports the
    /// largest peak among the program and the children it waited for (not their sum).
    /// </summary>
    public static async Task<Timed> RunAsync(IReadOnlyList<string> command, string? stdinFile = null,
        IReadOnlyDictionary<string, string>? env = null, string? stdoutFile = null)
    {
        var timeFile = Path.GetTempFileName();
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        // A large output (dump) goes to a file, never through this process's memory.
        psi.ArgumentList.Add(stdoutFile == null
            ? "exec /usr/bin/time -f '%e %M' -o \"$TIME_FILE\" \"$@\" < \"$INPUT_FILE\""
            : "exec /usr/bin/time -f '%e %M' -o \"$TIME_FILE\" \"$@\" < \"$INPUT_FILE\" > \"$OUTPUT_FILE\"");
        psi.ArgumentList.Add("sh");
        foreach (var a in command) psi.ArgumentList.Add(a);
        psi.Environment["TIME_FILE"] = timeFile;
        psi.Environment["INPUT_FILE"] = stdinFile ?? "/dev/null";
        if (stdoutFile != null) psi.Environment["OUTPUT_FILE"] = stdoutFile;
        if (env != null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        await Task.WhenAll(stdout, stderr);
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{string.Join(' ', command)} failed ({p.ExitCode}): {await stderr}\n{await stdout}");
        var fields = File.ReadAllText(timeFile).Trim().Split('\n')[^1].Split(' ');
        File.Delete(timeFile);
        return new Timed(double.Parse(fields[0], CultureInfo.InvariantCulture), double.Parse(fields[1], CultureInfo.InvariantCulture) / 1024,
            await stdout, await stderr);
    }

    /// <summary>backup-agent or restic with a local repository given through the environment, as the stdin case runs them.</summary>
    public static Task<Timed> RepoCommandAsync(string program, string repo, string[] args, string? stdinFile = null) =>
        RunAsync([program, Quiet(program), .. args], stdinFile, RepoEnvironment(repo));

    /// <summary>The flag every run gets: restic keeps no local cache (ours has none), ours prints no progress.</summary>
    public static string Quiet(string program) => IsRestic(program) ? "--no-cache" : "--quiet";

    public static Dictionary<string, string> RepoEnvironment(string repo) =>
        new() { ["RESTIC_REPOSITORY"] = repo, ["RESTIC_PASSWORD"] = Password };

    public static bool IsRestic(string program) => program == "restic";

    /// <summary>
    /// Empties the page cache (root only, and only where the kernel lets this container write
    /// /proc/sys/vm/drop_caches), so that the next run reads from the disk; false where that is not possible.
    /// </summary>
    public static async Task<bool> DropCachesAsync()
    {
        using (var sync = Process.Start("sync")!) await sync.WaitForExitAsync();
        try
        {
            await File.WriteAllTextAsync("/proc/sys/vm/drop_caches", "3");
            return true;
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            return false;
        }
    }

    /// <summary>
    /// The same start for every timed read: written data flushed, the page cache emptied (where <see cref="DropCachesAsync"/>
    /// can) and <paramref name="directory"/> read back into it. Otherwise each run inherits the pages of the targets
    /// before it, and reclaiming them made the same restore take 1.6 to 6 s of which most was the kernel's.
    /// </summary>
    public static async Task SettleAsync(string directory)
    {
        if (!await DropCachesAsync()) return;
        var buffer = new byte[1 << 20];
        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            await using var stream = File.OpenRead(file);
            while (await stream.ReadAsync(buffer) > 0) { }
        }
    }

    /// <summary>A repository copied with everything about its files (cp -a), so two programs get the same one.</summary>
    public static async Task CopyDirectoryAsync(string from, string to)
    {
        using var cp = Process.Start("cp", ["-a", from, to])!;
        await cp.WaitForExitAsync();
        if (cp.ExitCode != 0) throw new InvalidOperationException($"cp -a {from} {to} failed");
    }

    public static async Task<string> Sha256Async(string file)
    {
        await using var stream = File.OpenRead(file);
        return Convert.ToHexStringLower(await System.Security.Cryptography.SHA256.HashDataAsync(stream));
    }

    public static Task InitAsync(string program, string repo) => RepoCommandAsync(program, repo, ["init"]);

    public static long DataBytes(string repo)
    {
        var data = new DirectoryInfo(Path.Combine(repo, "data"));
        return data.Exists ? data.EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length) : 0;
    }

    public static double DataMiB(string repo) => DataBytes(repo) / 1048576.0;

    public static double Median<T>(IReadOnlyList<T> figures, Func<T, double> pick) =>
        figures.Select(pick).Order().ElementAt(figures.Count / 2);

    /// <param name="them">The program compared with ours (restic, or pgBackRest in the pitr case).</param>
    public static void Header(string them = "restic") => Console.WriteLine($"{"case",-34} {"ours",12} {them,12} {"ratio",8}");

    public static void Row(string name, double ours, double theirs, bool higherIsBetter, string them = "restic")
    {
        var ratio = higherIsBetter ? ours / theirs : theirs / ours;
        Console.WriteLine($"{name,-34} {ours,12:F1} {theirs,12:F1} {ratio,7:F2}x" + (higherIsBetter ? "" : $" ({them}/ours)"));
    }

    /// <summary>The generated inputs of the stdin and concurrent cases, made once per run.</summary>
    public sealed class Inputs(string work, long mib)
    {
        private string? _random, _text;

        public long MiB => mib;

        public async Task<(string Random, string Text)> GetAsync()
        {
            if (_random != null && _text != null) return (_random, _text);
            _random = Generate("random.bin", TestData.Kind.Random);
            _text = Generate("text.sql", TestData.Kind.Text);
            // The inputs' own writeback must not compete with the first measurement's fsyncs.
            using (var sync = Process.Start("sync")!) await sync.WaitForExitAsync();
            return (_random, _text);
        }

        private string Generate(string name, TestData.Kind kind)
        {
            var path = Path.Combine(work, name);
            using var data = new TestData(kind, mib << 20, seed: 42);
            using var file = File.Create(path);
            data.CopyTo(file, 1 << 20);
            return path;
        }
    }
}
