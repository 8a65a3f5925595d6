using System.Text.Json;
using Backups.Tests.CrashSafety;
using Backups.Tests.Errors;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Pruning;

/// <summary>
/// After forget and prune, `restic check --read-data` passes, every kept snapshot restores byte-identically, and
/// the repository shrank as much as restic's own prune shrinks an identical copy.
/// </summary>
public sealed class PruneTests(ResticScenarioFixture shared) : IClassFixture<ResticScenarioFixture>, IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private Task<PruneScenario> ScenarioAsync(PruneScenario.Writer writer, int version = 2) =>
        writer == PruneScenario.Writer.Restic && version == 2
            ? Task.FromResult(shared.Copy(_dir))
            : PruneScenario.CreateAsync(new LocalStore(_dir).New(), _dir, writer, version);

    [Theory]
    [InlineData(PruneScenario.Writer.Restic, 2)]
    [InlineData(PruneScenario.Writer.Restic, 1)]
    [InlineData(PruneScenario.Writer.Ours, 2)]
    public async Task Prune_after_forget_shrinks_as_restic_does_and_keeps_every_snapshot(PruneScenario.Writer writer, int version)
    {
        var ours = await ScenarioAsync(writer, version);
        var theirs = ours.CopyTo(_dir.Combine("restic-copy"));
        var before = ours.DataBytes();

        var summary = await ours.PruneAsync("--max-unused", "0");
        await theirs.Repo.Restic.RunOkAsync("prune", "--max-unused", "0");

        await ours.AssertIntactAsync(_dir, readData: true, "after our prune");
        Assert.True(summary.GetProperty("packs_to_repack").GetInt32() > 0, "no partly used pack was repacked");
        Assert.True(summary.GetProperty("packs_to_delete").GetInt32() > 0, "no unused pack was deleted");
        Assert.Equal(summary.GetProperty("packs_deleted").GetInt32(),
            summary.GetProperty("packs_to_delete").GetInt32() + summary.GetProperty("packs_to_repack").GetInt32());
        var after = ours.DataBytes();
        var expected = theirs.DataBytes();
        Assert.True(after < before * 3 / 4, $"the repository did not shrink enough: {before} -> {after} bytes");
        // Same blobs kept; pack headers and re-compressed trees may differ by a few bytes per pack.
        Assert.True(Math.Abs(after - expected) <= 16 << 10, $"ours left {after} bytes of packs, restic's prune of a copy {expected}");
        Assert.Equal(before - after, summary.GetProperty("size_freed").GetInt64());

        // Nothing left to do, in restic's judgement and ours.
        var left = await ours.ResticPlanAsync("--max-unused", "0");
        Assert.Equal((0, 0, 0), (left.Repack, left.Delete, left.Unreferenced));
        var again = await ours.PruneAsync("--max-unused", "0", "--dry-run");
        Assert.Equal(0, again.GetProperty("packs_to_repack").GetInt32() + again.GetProperty("packs_to_delete").GetInt32());
    }

    [Theory]
    [InlineData("unlimited")]
    [InlineData("0")]
    [InlineData("5%")]
    [InlineData("60%")]
    [InlineData("100k")]
    public async Task Max_unused_plans_as_restic_plans(string maxUnused)
    {
        var s = await ScenarioAsync(PruneScenario.Writer.Restic);
        var restic = await s.ResticPlanAsync("--max-unused", maxUnused);
        var ours = await s.PruneAsync("--max-unused", maxUnused, "--dry-run");
        Assert.Equal(restic, (ours.GetProperty("packs_to_keep").GetInt32(), ours.GetProperty("packs_to_repack").GetInt32(),
            ours.GetProperty("packs_to_delete").GetInt32(), ours.GetProperty("unreferenced_packs").GetInt32()));
        if (maxUnused == "unlimited") Assert.Equal(0, restic.Repack);
        if (maxUnused == "0") Assert.True(restic.Repack > 0, "the scenario has no partly used pack");

        await s.PruneAsync("--max-unused", maxUnused);
        await s.AssertIntactAsync(_dir, readData: false, $"after prune --max-unused {maxUnused}");
        var left = await s.PruneAsync("--max-unused", maxUnused, "--dry-run");
        Assert.Equal(0, left.GetProperty("packs_to_delete").GetInt32());
    }

    /// <summary>Repacked blobs are described by the index files the repack writes; the process holds no entry for them
    /// (48 bytes a blob that nothing looks up).</summary>
    [Fact]
    public async Task Repacked_blobs_are_not_held_in_the_in_memory_index()
    {
        var s = await ScenarioAsync(PruneScenario.Writer.Restic);
        await using (var repo = await Backups.Core.Repositories.Repository.OpenAsync(new Backups.Core.Backends.LocalBackend(s.Repo.Repository), Repositories.Password))
        {
            var stats = await Backups.Core.Pruning.Pruner.PruneAsync(repo,
                new Backups.Core.Pruning.PruneOptions { MaxUnused = Backups.Core.Pruning.MaxUnused.Parse("0") });
            Assert.True(stats.BlobsRepacked > 0, "nothing was repacked");
            Assert.Equal(0, repo.Index.Count);
        }
        await s.AssertIntactAsync(_dir, readData: true, "after a prune that repacked");
    }

    [Fact]
    public async Task Dry_run_changes_nothing()
    {
        var s = await ScenarioAsync(PruneScenario.Writer.Restic);
        var before = RepositoryFiles.Snapshot(s.Repo.Repository);
        var r = await s.Repo.Agent.RunOkAsync("prune", "--dry-run");
        Assert.Contains("to keep", r.StdoutText);
        Assert.Contains("nothing was changed", r.StdoutText);
        RepositoryFiles.AssertUnchanged(before, s.Repo.Repository);
    }

    [Fact]
    public async Task Missing_used_data_stops_prune_before_it_changes_anything()
    {
        var s = await ScenarioAsync(PruneScenario.Writer.Restic);
        // The largest pack holds data of snapshot A that snapshot B still uses.
        var largest = new DirectoryInfo(Path.Combine(s.Repo.Repository, "data")).EnumerateFiles("*", SearchOption.AllDirectories)
            .MaxBy(f => f.Length)!;
        largest.Delete();
        var before = RepositoryFiles.Snapshot(s.Repo.Repository);
        var r = await s.Repo.Agent.RunAsync(["prune"]);
        Assert.True(r.ExitCode == 15, $"prune exited {r.ExitCode}: {r.Stderr}");
        Assert.Contains("missing", r.Stderr);
        RepositoryFiles.AssertUnchanged(before, s.Repo.Repository);
    }

    [Fact]
    public async Task Prune_is_refused_while_a_backup_holds_the_lock_and_removes_its_lock_once_stale()
    {
        var s = await ScenarioAsync(PruneScenario.Writer.Restic);
        await using var backup = BackupProcess.Start(s.Repo.Agent, "endless.bin", new TestData(TestData.Kind.Random, long.MaxValue, seed: 7));
        var lockId = await StaleLockTests.LockOfAsync(s.Repo, backup);

        var refused = await s.Repo.Agent.RunAsync(["prune"]);
        Assert.True(refused.ExitCode == 11, $"prune beside a running backup exited {refused.ExitCode}: {refused.Stderr}");
        Assert.Contains("locked", refused.Stderr);
        Assert.Equal([lockId], RepositoryFiles.Ids(s.Repo.Repository, "locks"));

        var (killed, _, _) = await backup.FinishAsync(killAfter: TimeSpan.Zero);
        Assert.True(killed);
        var summary = await s.PruneAsync();
        Assert.True(summary.GetProperty("packs_deleted").GetInt32() > 0);
        Assert.Empty(RepositoryFiles.Ids(s.Repo.Repository, "locks"));
        await s.AssertIntactAsync(_dir, readData: false, "after prune beside a stale lock");
    }

    [Fact]
    public async Task Unlock_removes_stale_locks_and_with_remove_all_every_lock()
    {
        var repo = new LocalStore(_dir).New();
        await repo.Agent.RunOkAsync("init");
        await using var dead = BackupProcess.Start(repo.Agent, "dead.bin", new TestData(TestData.Kind.Random, long.MaxValue, seed: 8));
        var deadLock = await StaleLockTests.LockOfAsync(repo, dead);
        Assert.True((await dead.FinishAsync(killAfter: TimeSpan.Zero)).Killed);
        await using var live = BackupProcess.Start(repo.Agent, "live.bin", new TestData(TestData.Kind.Random, long.MaxValue, seed: 9));
        string liveLock;
        while ((liveLock = RepositoryFiles.Ids(repo.Repository, "locks").FirstOrDefault(l => l != deadLock) ?? "") == "") await Task.Delay(50);

        var r = await repo.Agent.RunOkAsync("unlock");
        Assert.Contains("removed 1 lock", r.StdoutText);
        Assert.Equal([liveLock], RepositoryFiles.Ids(repo.Repository, "locks"));

        await repo.Agent.RunOkAsync("unlock", "--remove-all");
        Assert.Empty(RepositoryFiles.Ids(repo.Repository, "locks"));
    }
}
