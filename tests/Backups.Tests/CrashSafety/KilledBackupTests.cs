using System.Diagnostics;
using System.Text.Json;
using Backups.Tests.Errors;
using Backups.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Backups.Tests.CrashSafety;

/// <summary>
/// A backup killed at any moment (SIGKILL, so nothing of ours runs) must leave a repository that restic checks
/// clean, with every earlier snapshot intact, and in which the next backup succeeds.
/// </summary>
public sealed class KilledBackupTests(ITestOutputHelper log) : IDisposable
{
    private const long MiB = 1 << 20, EarlierSize = 20 * MiB, LargeSize = 200 * MiB;
    private const int Kills = 20, ReadDataEvery = 5;
    // Fixed, so that a failure reproduces (as far as the machine's speed allows): the delays are printed.
    private const int RandomSeed = 20260122;

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Backups_killed_at_random_moments_leave_the_repository_consistent()
    {
        var repo = new LocalStore(_dir).New();
        await repo.Agent.RunOkAsync("init");
        var earlier = await BackupAsync(repo, "earlier.bin", EarlierSize, seed: 1);
        var earlierHash = TestData.Sha256(TestData.Kind.Random, EarlierSize, seed: 1);

        // One uninterrupted large backup: how long a backup takes here, so the kills spread over all of it.
        var clock = Stopwatch.StartNew();
        await BackupAsync(repo, "large.bin", LargeSize, seed: 2);
        var duration = clock.Elapsed;
        log.WriteLine($"uninterrupted {LargeSize / MiB} MiB backup: {duration.TotalSeconds:0.00} s; random seed {RandomSeed}");

        var random = new Random(RandomSeed);
        int killed = 0, staleLocks = 0;
        for (var i = 0; i < Kills; i++)
        {
            var delay = duration * random.NextDouble();
            await using var backup = BackupProcess.Start(repo.Agent, $"killed-{i}.bin", new TestData(TestData.Kind.Random, LargeSize, seed: 100 + i));
            var (wasKilled, exitCode, stderr) = await backup.FinishAsync(killAfter: delay);
            var what = $"run {i}, killed after {delay.TotalSeconds:0.000} s of {duration.TotalSeconds:0.00} s";
            log.WriteLine($"{what}: {(wasKilled ? "killed" : $"exited {exitCode}")}");
            if (wasKilled) killed++;
            else Assert.True(exitCode == 0, $"{what}: the backup failed on its own ({exitCode}): {stderr}");

            // restic (0.14 and later) refuses to lock a repository while any lock file is present, stale or not;
            // `restic unlock` removes the locks of processes that no longer run on this host. That it removes
            // ours shows our lock names the host and the process as restic expects.
            if (RepositoryFiles.Ids(repo.Repository, "locks").Count > 0)
            {
                staleLocks++;
                await repo.Restic.RunOkAsync("unlock");
                Assert.True(RepositoryFiles.Ids(repo.Repository, "locks").Count == 0, $"{what}: restic unlock left the dead backup's lock");
            }
            await CheckAsync(repo.Restic, readData: i % ReadDataEvery == ReadDataEvery - 1, what);
            await AssertDumpsAsync(repo.Restic, earlier, "/earlier.bin", EarlierSize, earlierHash, what);
        }
        log.WriteLine($"{killed} of {Kills} runs killed, {staleLocks} left a lock");
        Assert.True(killed > 0, "no backup was killed: the kills all came too late");
        Assert.True(staleLocks > 0, "no killed backup left a lock: the kills all came too early");

        var last = await BackupAsync(repo, "after.bin", LargeSize, seed: 3);
        await CheckAsync(repo.Restic, readData: true, "after the kills");
        await AssertDumpsAsync(repo.Restic, earlier, "/earlier.bin", EarlierSize, earlierHash, "after the kills");
        await AssertDumpsAsync(repo.Restic, last, "/after.bin", LargeSize, TestData.Sha256(TestData.Kind.Random, LargeSize, seed: 3), "after the kills");
    }

    /// <summary>A complete backup of generated data; returns the new snapshot's id.</summary>
    private static async Task<string> BackupAsync(RepositoryPair repo, string name, long size, int seed)
    {
        using var data = new TestData(TestData.Kind.Random, size, seed);
        var r = (await repo.Agent.RunAsync(["--json", "backup", "--stdin", "--stdin-filename", name], data)).EnsureSuccess($"backup {name}");
        var summary = r.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
        return JsonDocument.Parse(summary).RootElement.GetProperty("snapshot_id").GetString()!;
    }

    private static async Task CheckAsync(Restic restic, bool readData, string what)
    {
        var r = await restic.RunAsync(readData ? ["check", "--read-data"] : ["check"]);
        Assert.True(r.ExitCode == 0, $"{what}: restic check{(readData ? " --read-data" : "")} failed ({r.ExitCode}):\n{r.StdoutText}\n{r.Stderr}");
    }

    private static async Task AssertDumpsAsync(Restic restic, string snapshot, string path, long size, string sha256, string what)
    {
        using var dumped = new HashingStream();
        var r = await restic.RunAsync(["dump", snapshot, path], stdout: dumped);
        Assert.True(r.ExitCode == 0, $"{what}: restic dump {snapshot} {path} failed ({r.ExitCode}): {r.Stderr}");
        Assert.True(dumped.Written == size && dumped.Sha256() == sha256, $"{what}: snapshot {snapshot} no longer dumps {path} byte for byte");
    }
}
