using Backups.Tests.Support;
using static Bench.Measure;

namespace Bench;

/// <summary>
/// The same work through S3 (s3rver over HTTPS on this machine): each program backs up the generated tree and
/// the random input (`backup --stdin`) into its own repository, then both restore the tree and dump the input
/// from restic's, all with the same number of S3 connections (`-o s3.connections=N` to both). One round: s3rver
/// itself takes much of the CPU.
/// </summary>
public static class S3Bench
{
    public static async Task RunAsync(string agent, Inputs inputs, string work, TreeBench.Options options, int connections)
    {
        var (random, _) = await inputs.GetAsync();
        var tree = SourceTree.Generate(Path.Combine(work, "s3-tree"), options.Files, options.MiB << 20);
        var s3 = new S3rverFixture();
        await s3.InitializeAsync();
        try
        {
            await RunAsync(agent, inputs, work, s3, tree, random, connections);
        }
        finally
        {
            await s3.DisposeAsync();
            Directory.Delete(tree.Root, recursive: true);
        }
    }

    private static async Task RunAsync(string agent, Inputs inputs, string work, S3rverFixture s3, SourceTree tree, string random, int connections)
    {
        var expected = SourceTree.Count(tree.Root);
        var digest = await Sha256Async(random);
        string ours = s3.NewRepository(), theirs = s3.NewRepository();
        var connectionOption = $"s3.connections={connections}";
        IReadOnlyList<string> Flags(string program) => ["--cacert", s3.CaCertPath, "-o", connectionOption];
        Dictionary<string, string> Env(string repo) => new(s3.Env) { ["RESTIC_REPOSITORY"] = repo, ["RESTIC_PASSWORD"] = Password };
        Task<Timed> Run(string program, string repo, string[] args, string? stdin = null) =>
            Measure.RunAsync([program, Quiet(program), .. Flags(program), .. args], stdin, Env(repo));

        await Run(agent, ours, ["init"]);
        await Run("restic", theirs, ["init"]);
        Console.WriteLine();
        Console.WriteLine($"s3: through s3rver (HTTPS, this machine): {tree.Files:N0} files ({tree.Bytes / 1048576.0:F0} MiB) and a {inputs.MiB} MiB file; " +
                          $"both with -o {connectionOption}");
        Header();
        var treeMiB = tree.Bytes / 1048576.0;
        var backupTree = (await Run(agent, ours, ["backup", "--tag", "tree", tree.Root]), await Run("restic", theirs, ["backup", "--tag", "tree", tree.Root]));
        Row("backup tree: MiB/s", treeMiB / backupTree.Item1.Seconds, treeMiB / backupTree.Item2.Seconds, higherIsBetter: true);
        string[] stdin = ["backup", "--tag", "dump", "--stdin", "--stdin-filename", "random.bin"];
        var backupFile = (await Run(agent, ours, stdin, random), await Run("restic", theirs, stdin, random));
        Row("backup --stdin: MiB/s", inputs.MiB / backupFile.Item1.Seconds, inputs.MiB / backupFile.Item2.Seconds, higherIsBetter: true);

        var restore = (await RestoreBench.RestoreAsync(agent, theirs, work, expected, Flags(agent), Env(theirs)),
            await RestoreBench.RestoreAsync("restic", theirs, work, expected, Flags("restic"), Env(theirs)));
        Row("restore tree: MiB/s", treeMiB / restore.Item1.Seconds, treeMiB / restore.Item2.Seconds, higherIsBetter: true);
        var dump = (await RestoreBench.DumpAsync(agent, theirs, work, digest, Flags(agent), Env(theirs)),
            await RestoreBench.DumpAsync("restic", theirs, work, digest, Flags("restic"), Env(theirs)));
        Row("dump: MiB/s", inputs.MiB / dump.Item1.Seconds, inputs.MiB / dump.Item2.Seconds, higherIsBetter: true);
        Row("dump: peak RSS MiB", dump.Item1.RssMiB, dump.Item2.RssMiB, higherIsBetter: false);
    }
}
