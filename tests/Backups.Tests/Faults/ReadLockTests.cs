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
}
