using Backups.Core.Backends;
using Backups.Core.Locks;
using Backups.Tests.CrashSafety;
using Backups.Tests.Errors;
using Backups.Tests.Support;
using Xunit;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Tests.Faults;

/// <summary>
/// A backup that cannot keep its lock stops writing and saves no snapshot: when the store refuses its refreshes
/// (before others could take the lock for stale), and when its lock file is removed by a forced unlock, after
/// which a prune may delete the packs it has stored so far.
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed class LockLossTests(S3rverFixture s3)
{
    [Fact]
    public async Task A_backup_whose_refreshes_are_refused_stops_without_a_snapshot()
    {
        await using var proxy = new FaultProxy(s3, seed: 9);
        var repository = proxy.NewRepository();
        // Refreshed every second, stale after 6 s: the lock is given up 4.5 s after its last refresh.
        var agent = new Agent(repository, Repositories.Password, env: new Dictionary<string, string>(s3.Env)
        {
            [RepositoryLock.RefreshVariable] = "1", [RepositoryLock.StaleVariable] = "6",
        });
        var restic = new Restic(proxy.Direct(repository), Repositories.Password, s3.CaCertPath, new Dictionary<string, string>(s3.Env));
        await agent.RunOkAsync("init");

        // Data trickles in until the backup gives up (a minute at most), so it cannot finish before its lock is lost.
        await using var backup = BackupProcess.Start(agent, "endless.bin", async (stdin, ct) =>
        {
            for (var i = 0; i < 600; i++)
            {
                await using (var chunk = new TestData(TestData.Kind.Random, 1 << 20, seed: 1000 + i)) await chunk.CopyToAsync(stdin, 1 << 20, ct);
                await Task.Delay(100, ct);
            }
        });
        await LockInStoreAsync(s3, repository, backup);
        proxy.RefusePutsTo = "/locks/";

        var (killed, exitCode, stderr) = await backup.FinishAsync(killAfter: TimeSpan.FromMinutes(3));
        Assert.False(killed, "the backup went on without its lock");
        Assert.True(exitCode == Failure.Unavailable, $"expected exit {Failure.Unavailable}, got {exitCode}: {stderr}");
        Assert.Contains("could not be refreshed", stderr);
        Assert.True(proxy.Injected.GetValueOrDefault("Refused") > 0);
        proxy.RefusePutsTo = null;
        Assert.Empty((await restic.JsonAsync("snapshots")).EnumerateArray());
        Assert.Empty(LockFiles(s3, repository));
    }

    /// <summary>What `restic unlock --remove-all` followed by `restic prune` does to a running backup: the prune
    /// deletes the packs no index names yet. The backup must notice that its lock is gone and save nothing.</summary>
    [Fact]
    public async Task A_forced_unlock_and_prune_during_a_backup_make_it_fail_without_a_snapshot()
    {
        // The proxy injects nothing here: it only spares the agent's process a --cacert.
        await using var proxy = new FaultProxy(s3, seed: 10);
        var repository = proxy.NewRepository();
        var agent = new Agent(repository, Repositories.Password, env: new Dictionary<string, string>(s3.Env));
        var restic = new Restic(proxy.Direct(repository), Repositories.Password, s3.CaCertPath, new Dictionary<string, string>(s3.Env));
        await agent.RunOkAsync("init");
        using (var first = new TestData(TestData.Kind.Random, 1 << 20, seed: 40))
            (await agent.RunAsync(["backup", "--stdin", "--stdin-filename", "before.bin"], first)).EnsureSuccess("first backup");

        var pruned = new TaskCompletionSource();
        await using var backup = BackupProcess.Start(agent, "during.bin", async (stdin, ct) =>
        {
            // More than a pack (16 MiB), so that one is stored, and in no index yet, when the prune runs.
            await using (var data = new TestData(TestData.Kind.Random, 20 << 20, seed: 41)) await data.CopyToAsync(stdin, 1 << 20, ct);
            await pruned.Task.WaitAsync(ct);
            await using var rest = new TestData(TestData.Kind.Random, 1 << 20, seed: 42);
            await rest.CopyToAsync(stdin, 1 << 20, ct);
        });
        await LockInStoreAsync(s3, repository, backup);
        var packsBefore = PackFiles(s3, repository).Count;
        while (PackFiles(s3, repository).Count == packsBefore)
        {
            Assert.False(backup.HasExited, "the backup ended before it stored a pack");
            await Task.Delay(50);
        }

        await restic.RunOkAsync("unlock", "--remove-all");
        await restic.RunOkAsync("prune");
        Assert.Equal(packsBefore, PackFiles(s3, repository).Count); // the prune did delete the backup's new pack
        pruned.SetResult();

        var (killed, exitCode, stderr) = await backup.FinishAsync(killAfter: TimeSpan.FromMinutes(2));
        Assert.False(killed, "the backup hung");
        Assert.True(exitCode == Failure.Locked, $"expected exit {Failure.Locked}, got {exitCode}: {stderr}");
        Assert.Contains("removed by another process", stderr);
        var snapshots = (await restic.JsonAsync("snapshots")).EnumerateArray().ToList();
        Assert.Equal(["/before.bin"], snapshots.Select(s => s.GetProperty("paths")[0].GetString()));
        await restic.CheckAsync(readData: true);
    }

    /// <summary>Removing the lock on the way out runs over a saved snapshot or the first error: when the store is
    /// out of reach it leaves the lock behind (stale once this process is gone) instead of throwing.</summary>
    [Fact]
    public async Task Removing_a_lock_in_an_outage_does_not_throw()
    {
        await using var proxy = new FaultProxy(s3, seed: 11);
        var repository = proxy.NewRepository();
        var retry = RetrySettings.Default with { Budget = TimeSpan.FromSeconds(2), FirstDelay = TimeSpan.FromMilliseconds(50) };
        await using var backend = RepositoryLocation.Open(repository, s3.Options(retry) with { CaCertFile = null });
        await using var repo = await Repo.InitAsync(backend, Repositories.Password);
        var held = await RepositoryLock.AcquireAsync(repo, exclusive: false);
        proxy.StartOutage(TimeSpan.FromMinutes(1));
        await held.DisposeAsync();
        Assert.True(proxy.Injected.GetValueOrDefault("Outage") > 0);
        Assert.Single(LockFiles(s3, repository));
    }

    private static List<string> LockFiles(S3rverFixture s3, string repository) => Objects(s3, repository, "locks");

    private static List<string> PackFiles(S3rverFixture s3, string repository) => Objects(s3, repository, "data");

    private static List<string> Objects(S3rverFixture s3, string repository, string folder)
    {
        var dir = Path.Combine(RepositoryFiles.S3Directory(s3, repository), folder);
        return Directory.Exists(dir)
            ? [.. Directory.EnumerateFiles(dir, "*._S3rver_object", SearchOption.AllDirectories)]
            : [];
    }

    private static async Task LockInStoreAsync(S3rverFixture s3, string repository, BackupProcess backup)
    {
        while (LockFiles(s3, repository).Count == 0)
        {
            Assert.False(backup.HasExited, "the backup ended before it took its lock");
            await Task.Delay(50);
        }
    }
}
