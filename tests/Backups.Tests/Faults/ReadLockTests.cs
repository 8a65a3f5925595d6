using Backups.Core.Backends;
using Backups.Core.Locks;
using Backups.Tests.Errors;
using Backups.Tests.Support;
using Xunit;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Tests.Faults;

/// <summary>restore, dump, ls and check take restic's non-exclusive lock, so a prune (exclusive) and they exclude
/// each other; --no-lock reads without one, as restic's does.</summary>
public sealed class ReadLockTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Reads_wait_for_no_prune_but_are_refused_beside_an_exclusive_lock()
    {
        var repo = new LocalStore(_dir).New();
        await repo.Agent.RunOkAsync("init");
        using (var data = new TestData(TestData.Kind.Random, 100_000, seed: 50))
            (await repo.Agent.RunAsync(["backup", "--stdin", "--stdin-filename", "f.bin"], data)).EnsureSuccess("backup");

        // What a running prune holds: an exclusive lock of a live process (this one).
        await using var opened = await Repo.OpenAsync(new LocalBackend(repo.Repository), Repositories.Password);
        string[][] Reads(string target) => [["dump", "latest", "/f.bin"], ["ls", "latest"], ["restore", "latest", "--target", target], ["check"]];
        await using (await RepositoryLock.AcquireAsync(opened, exclusive: true))
        {
            foreach (var read in Reads(_dir.Combine("refused")))
                Failure.AssertOneLine(await repo.Agent.RunAsync(read), Failure.Locked, "locked");
            Assert.False(Directory.Exists(_dir.Combine("refused")));
            foreach (var read in Reads(_dir.Combine("unlocked")))
                (await repo.Agent.RunAsync(["--no-lock", .. read])).EnsureSuccess(string.Join(' ', read) + " --no-lock");
        }
        Assert.Equal(100_000, new FileInfo(_dir.Combine("unlocked", "f.bin")).Length);
        foreach (var read in Reads(_dir.Combine("locked"))) (await repo.Agent.RunAsync(read)).EnsureSuccess(string.Join(' ', read));
        Assert.Empty(RepositoryFiles.Ids(repo.Repository, "locks"));
    }

    /// <summary>
    /// restore and dump work while their lock settles (restic's wait before looking for others again). An exclusive
    /// lock written within that wait, as a prune starting at the same moment writes it, makes them fail with the
    /// lock's reason even though their work is done by then: neither reports success without the lock.
    /// </summary>
    [Fact]
    public async Task A_restore_or_dump_that_meets_an_exclusive_lock_while_settling_fails_with_its_reason()
    {
        var repo = new LocalStore(_dir).New();
        await repo.Agent.RunOkAsync("init");
        using (var data = new TestData(TestData.Kind.Random, 100_000, seed: 51))
            (await repo.Agent.RunAsync(["backup", "--stdin", "--stdin-filename", "f.bin"], data)).EnsureSuccess("backup");
        await using var opened = await Repo.OpenAsync(new LocalBackend(repo.Repository), Repositories.Password);
        var settling = new Dictionary<string, string> { [RepositoryLock.SettleVariable] = "5" };
        string[][] reads = [["restore", "latest", "--target", _dir.Combine("target")], ["dump", "latest", "/f.bin"]];
        foreach (var read in reads)
        {
            var run = repo.Agent.RunAsync(read, stdout: Stream.Null, extraEnv: settling);
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (RepositoryFiles.Ids(repo.Repository, "locks").Count == 0)
            {
                Assert.True(DateTime.UtcNow < deadline && !run.IsCompleted, $"{read[0]} wrote no lock: {(run.IsCompleted ? (await run).Stderr : "")}");
                await Task.Delay(10);
            }
            var prune = await opened.SaveFileAsync(Backups.Core.Repositories.RepositoryFiles.Lock, new LockFile
            {
                Time = DateTimeOffset.Now, Exclusive = true, Hostname = Environment.MachineName, Pid = Environment.ProcessId,
            });
            Failure.AssertOneLine(await run, Failure.Locked, "locked exclusively");
            Assert.Equal([prune.ToString()], RepositoryFiles.Ids(repo.Repository, "locks"));
            await opened.Backend.RemoveAsync(Backups.Core.Repositories.RepositoryFiles.Lock.Named(prune));
        }
        // The restore had begun: what it wrote carries no snapshot metadata, and the run said it failed.
        Assert.True(Directory.Exists(_dir.Combine("target")));
        (await repo.Agent.RunAsync(reads[0], extraEnv: settling)).EnsureSuccess("restore without a conflict");
        Assert.Equal(100_000, new FileInfo(_dir.Combine("target", "f.bin")).Length);
    }
}
