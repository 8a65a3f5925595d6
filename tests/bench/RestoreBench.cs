using static Bench.Measure;

namespace Bench;

/// <summary>
/// Reading back, both programs from one repository restic wrote (so the input is the same): `restore` of the
/// generated tree into a new target, and `dump` of a snapshot of the random input (`backup --stdin`) into a file.
/// Every restore and dump is checked (file count and bytes; SHA-256 of the dump) outside the timing. Median of
/// three alternating rounds, each run from the same cache state (<see cref="Measure.SettleAsync"/>: the repository
/// warm, nothing of earlier runs).
/// </summary>
public static class RestoreBench
{
    public static async Task RunAsync(string agent, Inputs inputs, string work, TreeBench.Options options)
    {
        var (random, _) = await inputs.GetAsync();
        var tree = SourceTree.Generate(Path.Combine(work, "restore-tree"), options.Files, options.MiB << 20);
        var repo = Path.Combine(work, "restore-repo");
        await InitAsync("restic", repo);
        await RepoCommandAsync("restic", repo, ["backup", "--tag", "tree", tree.Root]);
        await RepoCommandAsync("restic", repo, ["backup", "--tag", "dump", "--stdin", "--stdin-filename", "random.bin"], random);
        var expected = SourceTree.Count(tree.Root);
        var digest = await Sha256Async(random);
        Console.WriteLine();
        Console.WriteLine($"restore: from one repository restic wrote: `restore` of {tree.Files:N0} files ({tree.Bytes / 1048576.0:F0} MiB), " +
                          $"`dump` of a {inputs.MiB} MiB file; median of {Rounds} alternating rounds");
        Header();

        var restores = new List<(Timed Ours, Timed Restic)>();
        var dumps = new List<(Timed Ours, Timed Restic)>();
        for (var round = 0; round < Rounds; round++)
        {
            await SettleAsync(repo);
            var ours = await RestoreAsync(agent, repo, work, expected);
            await SettleAsync(repo);
            restores.Add((ours, await RestoreAsync("restic", repo, work, expected)));
            await SettleAsync(repo);
            var dumped = await DumpAsync(agent, repo, work, digest);
            await SettleAsync(repo);
            dumps.Add((dumped, await DumpAsync("restic", repo, work, digest)));
        }
        var treeMiB = tree.Bytes / 1048576.0;
        Row("restore tree: MiB/s", treeMiB / Median(restores, r => r.Ours.Seconds), treeMiB / Median(restores, r => r.Restic.Seconds), higherIsBetter: true);
        Row("restore tree: peak RSS MiB", Median(restores, r => r.Ours.RssMiB), Median(restores, r => r.Restic.RssMiB), higherIsBetter: false);
        Row("dump: MiB/s", inputs.MiB / Median(dumps, r => r.Ours.Seconds), inputs.MiB / Median(dumps, r => r.Restic.Seconds), higherIsBetter: true);
        Row("dump: peak RSS MiB", Median(dumps, r => r.Ours.RssMiB), Median(dumps, r => r.Restic.RssMiB), higherIsBetter: false);
        Console.WriteLine("target: restore and dump at 2.00x restic or better");
        Directory.Delete(repo, recursive: true);
        Directory.Delete(tree.Root, recursive: true);
    }

    /// <summary>Restores the tree snapshot into a new target and checks that every file and byte came back.</summary>
    public static async Task<Timed> RestoreAsync(string program, string repo, string work, (int Files, long Bytes) expected,
        IReadOnlyList<string>? options = null, IReadOnlyDictionary<string, string>? env = null)
    {
        var target = Path.Combine(work, "restore-target");
        var timed = await Measure.RunAsync([program, Quiet(program), .. options ?? [], "restore", "latest", "--tag", "tree", "--target", target],
            env: env ?? RepoEnvironment(repo));
        var restored = SourceTree.Count(target);
        if (restored != expected)
            throw new InvalidOperationException($"{program} restored {restored.Files} files, {restored.Bytes} bytes; the tree has {expected.Files}, {expected.Bytes}");
        Directory.Delete(target, recursive: true);
        return timed;
    }

    /// <summary>Dumps the stdin snapshot into a file and checks its SHA-256.</summary>
    public static async Task<Timed> DumpAsync(string program, string repo, string work, string digest,
        IReadOnlyList<string>? options = null, IReadOnlyDictionary<string, string>? env = null)
    {
        var output = Path.Combine(work, "dump.out");
        var timed = await Measure.RunAsync([program, Quiet(program), .. options ?? [], "dump", "--tag", "dump", "latest", "/random.bin"],
            env: env ?? RepoEnvironment(repo), stdoutFile: output);
        if (await Sha256Async(output) != digest) throw new InvalidOperationException($"{program} dump: not the bytes backed up");
        File.Delete(output);
        return timed;
    }
}
