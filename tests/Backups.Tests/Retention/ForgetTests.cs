using Backups.Core.Backends;
using Backups.Core.Locks;
using Backups.Tests.Support;
using Xunit;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Tests.Retention;

/// <summary>
/// `backup-agent forget` for real, on copies of the shared repository: it removes exactly the snapshot files
/// restic would, restic then lists exactly the snapshots it would have kept and checks the repository clean;
/// it refuses while another process holds an exclusive lock, and refuses bad flags, both changing nothing.
/// </summary>
[Collection("retention")]
public sealed class ForgetTests(RetentionRepository shared) : IDisposable
{
    private readonly TempDir _dir = new();

    private static readonly string[] Policy =
        ["--keep-daily=7", "--keep-weekly=4", "--keep-monthly=6", "--keep-within-yearly=2y", "--keep-tag=manual"];

    private static HashSet<string> SnapshotFiles(string repo) =>
        Directory.EnumerateFiles(Path.Combine(repo, "snapshots")).Select(Path.GetFileName).ToHashSet()!;

    [Fact]
    public async Task Forget_removes_exactly_what_restic_would()
    {
        var repo = shared.Copy(_dir);
        var before = SnapshotFiles(repo.Repository);
        var resticPlan = (await repo.Restic.RunOkAsync(["forget", "--dry-run", "--json", .. Policy])).StdoutText;
        var plan = PlanText.FromJson(resticPlan);
        var kept = IdsIn(plan, "keep");
        var removed = IdsIn(plan, "remove");
        Assert.NotEmpty(removed);

        var ours = await repo.Agent.RunOkAsync(["forget", "--json", .. Policy]);

        Assert.Equal(plan, PlanText.FromJson(ours.StdoutText));
        Assert.Equal(before.Except(removed).Order(), SnapshotFiles(repo.Repository).Order());
        Assert.Equal(kept.Order(), SnapshotFiles(repo.Repository).Order());
        var listed = (await repo.Restic.JsonAsync("snapshots")).EnumerateArray().Select(s => s.GetProperty("id").GetString()!);
        Assert.Equal(kept.Order(), listed.Order());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(repo.Repository, "locks")));
        await repo.Restic.CheckAsync(readData: true);
    }

    [Fact]
    public async Task Forget_with_prune_leaves_the_data_restics_forget_prune_leaves()
    {
        using var other = new TempDir();
        var ours = shared.Copy(_dir);
        var theirs = shared.Copy(other);
        static HashSet<string> Packs(string repo) =>
            Directory.EnumerateFiles(Path.Combine(repo, "data"), "*", SearchOption.AllDirectories).Select(Path.GetFileName).ToHashSet()!;
        var before = Packs(ours.Repository);

        var result = await ours.Agent.RunOkAsync(["forget", "--prune", .. Policy]);
        await theirs.Restic.RunOkAsync(["forget", "--prune", .. Policy]);

        Assert.Contains("deleted ", result.StdoutText);
        Assert.Equal(SnapshotFiles(theirs.Repository).Order(), SnapshotFiles(ours.Repository).Order());
        var left = Packs(ours.Repository);
        Assert.True(left.Count < before.Count, "forget --prune deleted no pack");
        // As much data is gone as with restic (repacked packs get new names, so sizes are compared).
        Assert.InRange(Repositories.DataBytes(ours.Repository), 0, Repositories.DataBytes(theirs.Repository) * 105 / 100);
        await ours.Restic.CheckAsync(readData: true);
    }

    [Fact]
    public async Task Forget_by_id_removes_just_the_named_snapshots()
    {
        var repo = shared.Copy(_dir);
        var before = SnapshotFiles(repo.Repository);
        var (first, second) = (before.Order().First(), before.Order().Last());

        Assert.Equal(14, (await repo.Agent.RunAsync(["forget", first, "deadbeef"])).ExitCode);
        await repo.Agent.RunOkAsync("forget", "--dry-run", first, second[..8]);
        Assert.Equal(before.Order(), SnapshotFiles(repo.Repository).Order());

        await repo.Agent.RunOkAsync("forget", first, second[..8]);

        var listed = (await repo.Restic.JsonAsync("snapshots")).EnumerateArray().Select(s => s.GetProperty("id").GetString()!);
        Assert.Equal(before.Except([first, second]).Order(), listed.Order());
    }

    [Fact]
    public async Task Forget_refuses_while_the_repository_is_locked_exclusively()
    {
        var repo = shared.Copy(_dir);
        var before = SnapshotFiles(repo.Repository);
        await using (var r = await Repo.OpenAsync(RepositoryLocation.Open(repo.Repository), Repositories.Password))
        await using (await RepositoryLock.AcquireAsync(r, exclusive: true))
        {
            var result = await repo.Agent.RunAsync(["forget", "--keep-last=1"]);
            Assert.Equal(11, result.ExitCode);
            Assert.Contains("locked", result.Stderr);
            Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
        }
        Assert.Equal(before.Order(), SnapshotFiles(repo.Repository).Order());
    }

    [Theory]
    [InlineData("--keep-last=-2", "--keep-last")]
    [InlineData("--keep-weekly=endless", "--keep-weekly needs a whole number or 'unlimited'")]
    [InlineData("--keep-daily=two", "--keep-daily")]
    [InlineData("--keep-within=1w", "invalid unit 'w'")]
    [InlineData("--keep-within-daily=5", "no unit")]
    [InlineData("--keep-within=-2d", "negative")]
    [InlineData("--group-by=host,color", "color")]
    [InlineData("--prune --max-unused=110%", "--max-unused")]
    public async Task Bad_flags_are_usage_errors_that_change_nothing(string flag, string message)
    {
        var before = SnapshotFiles(shared.Path);
        var result = await shared.Agent.RunAsync(["forget", "--keep-last=3", .. flag.Split(' ')]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Stderr);
        Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Equal(before.Order(), SnapshotFiles(shared.Path).Order());
    }

    /// <summary>restic 0.16+'s -1 and "unlimited": every bucket, so exactly what restic 0.14 keeps with a count above the number of buckets.</summary>
    [Theory]
    [InlineData("--keep-monthly", "--group-by=host")]
    [InlineData("--keep-weekly", "--group-by=host,paths")]
    public async Task Unlimited_and_minus_one_keep_every_bucket(string flag, string groupBy)
    {
        var restic = PlanText.FromJson((await shared.Restic.RunOkAsync("--no-lock", "forget", "--dry-run", "--json", $"{flag}=100000", groupBy)).StdoutText);
        var keptByRestic = IdsIn(restic, "keep");

        foreach (var unlimited in new[] { "unlimited", "-1" })
        {
            var ours = PlanText.FromJson((await shared.Agent.RunOkAsync("forget", "--dry-run", "--json", flag, unlimited, groupBy)).StdoutText);
            Assert.Equal(keptByRestic.Order(), IdsIn(ours, "keep").Order());
            Assert.Equal(IdsIn(restic, "remove").Order(), IdsIn(ours, "remove").Order());
        }
        Assert.NotEmpty(IdsIn(restic, "remove"));
    }

    private static HashSet<string> IdsIn(string planText, string what) =>
        planText.Split('\n').Where(l => l.StartsWith($"  {what} ")).Select(l => l.Split(' ')[3]).ToHashSet();

    public void Dispose() => _dir.Dispose();
}
