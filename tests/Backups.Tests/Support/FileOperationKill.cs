using System.Diagnostics;

namespace Backups.Tests.Support;

/// <summary>What a run watched by <see cref="FileOperationKill"/> did: how many file operations it made (and which, in
/// order), whether it was killed, the last operation before the kill, and how it ended.</summary>
public sealed record KilledRun(int Operations, bool Killed, string Last, int ExitCode, string Stderr, IReadOnlyList<string> Sequence);

/// <summary>
/// SIGKILL of a process right after its k-th file operation in a local repository (packs, index files and
/// snapshots written, locks and packs removed), seen through a FileSystemWatcher: a kill point drawn at random over
/// an uninterrupted run's count lands in every phase however fast the machine is. Nothing of the process runs
/// after the kill, as when a machine loses power or the OOM killer strikes.
/// </summary>
public static class FileOperationKill
{
    /// <param name="killAfter">The operation after which to kill; int.MaxValue runs to the end and counts them.</param>
    public static async Task<KilledRun> RunAsync(string repository, IEnumerable<string> args, IDictionary<string, string> env, int killAfter)
    {
        var psi = new ProcessStartInfo(Agent.Program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env) psi.Environment[k] = v;

        var count = 0;
        var last = "";
        var sequence = new List<string>();
        var killed = false;
        Process? process = null;
        var gate = new Lock();
        using var watcher = new FileSystemWatcher(repository) { IncludeSubdirectories = true, InternalBufferSize = 1 << 16 };
        void Seen(string operation)
        {
            lock (gate)
            {
                if (killed || operation == "") return;
                last = operation;
                sequence.Add(operation);
                if (++count < killAfter || process == null) return;
                try
                {
                    process.Kill();
                    killed = true;
                }
                catch (InvalidOperationException) { /* it ended just now */ }
            }
        }
        watcher.Renamed += (_, e) => Seen(Describe("wrote", e.FullPath));
        watcher.Deleted += (_, e) => Seen(Path.GetFileName(e.FullPath).StartsWith('.') ? "" : Describe("removed", e.FullPath));
        watcher.EnableRaisingEvents = true;

        lock (gate) process = Process.Start(psi)!;
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            await Task.WhenAll(stdout, stderr);
            await Task.Delay(100); // the watcher's last events
            lock (gate) return new KilledRun(count, killed, last, process.ExitCode, stderr.Result, sequence);
        }
    }

    /// <summary>
    /// <paramref name="count"/> kill points (operation numbers, never the last operation) over an uninterrupted run's
    /// <paramref name="sequence"/>, drawn with <paramref name="seed"/>: first one right after an operation of each of
    /// <paramref name="phases"/> ("wrote-index", ...), so that a phase with few operations is not missed by chance,
    /// then points anywhere.
    /// </summary>
    public static List<int> KillPoints(IReadOnlyList<string> sequence, int count, int seed, IEnumerable<string> phases)
    {
        var random = new Random(seed);
        var points = new List<int>();
        foreach (var phase in phases)
        {
            var after = Enumerable.Range(1, sequence.Count - 1).Where(k => sequence[k - 1].Split(' ')[0] == phase).ToList();
            if (after.Count > 0) points.Add(after[random.Next(after.Count)]);
        }
        while (points.Count < count) points.Add(random.Next(1, sequence.Count));
        return points;
    }

    private static string Describe(string verb, string path)
    {
        var folder = Path.GetFileName(Path.GetDirectoryName(path)!);
        var kind = folder switch { "index" => "index", "locks" => "lock", "snapshots" => "snapshot", { Length: 2 } => "pack", _ => "" };
        return kind == "" ? "" : $"{verb}-{kind} {Path.GetFileName(path)[..8]}";
    }
}
