using Backups.Tests.Errors;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.CrashSafety;

/// <summary>
/// The lock a backup holds follows restic's protocol. restic (0.14 and later) refuses to lock a repository while
/// any lock file is present, stale or not, so after a crash people run `restic unlock`: it removes the locks of
/// processes no longer running on this host, and finds out by sending each holder SIGHUP.
/// </summary>
public sealed class StaleLockTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Running_backup_keeps_its_lock_and_survives_restic_unlock()
    {
        var repo = new LocalStore(_dir).New();
        await repo.Agent.RunOkAsync("init");
        var unlocked = new TaskCompletionSource();
        await using var backup = BackupProcess.Start(repo.Agent, "data.bin", async (stdin, ct) =>
        {
            await using var data = new TestData(TestData.Kind.Random, 8 << 20, seed: 12);
            await data.CopyToAsync(stdin, 1 << 20, ct);
            await unlocked.Task.WaitAsync(ct);
            await using var more = new TestData(TestData.Kind.Random, 8 << 20, seed: 13);
            await more.CopyToAsync(stdin, 1 << 20, ct);
        });
        var lockId = await LockOfAsync(repo, backup);

        await repo.Restic.RunOkAsync("unlock");
        Assert.Equal([lockId], RepositoryFiles.Ids(repo.Repository, "locks"));
        unlocked.SetResult();

        var (killed, exitCode, stderr) = await backup.FinishAsync(killAfter: TimeSpan.FromSeconds(60));
        Assert.False(killed, "the backup hung");
        Assert.True(exitCode == 0, $"the backup did not survive restic unlock's SIGHUP ({exitCode}): {stderr}");
        Assert.Empty(RepositoryFiles.Ids(repo.Repository, "locks"));
        Assert.Single((await repo.Restic.JsonAsync("snapshots")).EnumerateArray());
    }

    [Fact]
    public async Task Lock_of_a_killed_backup_is_stale_to_restic_and_ignored_by_us()
    {
        var repo = new LocalStore(_dir).New();
        await repo.Agent.RunOkAsync("init");
        // A backup whose input never ends: it holds its lock until it is killed.
        await using var backup = BackupProcess.Start(repo.Agent, "endless.bin", new TestData(TestData.Kind.Random, long.MaxValue, seed: 14));
        var lockId = await LockOfAsync(repo, backup);
        var (killed, exitCode, stderr) = await backup.FinishAsync(killAfter: TimeSpan.Zero);
        Assert.True(killed, $"the backup ended by itself ({exitCode}): {stderr}");
        Assert.Equal([lockId], RepositoryFiles.Ids(repo.Repository, "locks"));

        using (var data = new TestData(TestData.Kind.Random, 3 << 20, seed: 15))
            (await repo.Agent.RunAsync(["backup", "--stdin", "--stdin-filename", "next.bin"], data)).EnsureSuccess("backup beside a stale lock");

        await repo.Restic.RunOkAsync("unlock");
        Assert.Empty(RepositoryFiles.Ids(repo.Repository, "locks"));
        await repo.Restic.CheckAsync(readData: true);
        Assert.Single((await repo.Restic.JsonAsync("snapshots")).EnumerateArray());
    }

    /// <summary>Waits until the running backup has written its lock file; returns its id.</summary>
    internal static async Task<string> LockOfAsync(RepositoryPair repo, BackupProcess backup)
    {
        List<string> locks;
        while ((locks = RepositoryFiles.Ids(repo.Repository, "locks")).Count == 0)
        {
            Assert.False(backup.HasExited, "the backup ended before it took its lock");
            await Task.Delay(50);
        }
        return Assert.Single(locks);
    }
}
