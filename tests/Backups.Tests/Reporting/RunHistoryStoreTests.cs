using Backups.Core.Backends;
using Backups.Core.Reporting;
using Backups.Core.Repositories;
using Backups.Tests.Support;
using Xunit;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Tests.Reporting;

/// <summary>
/// The run history beside the repository: written as create-only generations (against a store that refuses to
/// replace an object, with a second writer racing for the same generation), readable only with the repository's
/// key, never written over with less when the newest generation is damaged, bounded; and stock restic checks the
/// repository it sits in.
/// </summary>
[Collection("s3")]
public sealed class RunHistoryStoreTests(S3rverFixture s3)
{
    private static readonly DateTimeOffset Night = new(2026, 11, 1, 3, 0, 0, TimeSpan.Zero);

    private static RunRecord Run(string execution, int night, bool succeeded = true) =>
        new("db-box", execution, Night.AddDays(night), Night.AddDays(night).AddMinutes(5), succeeded, succeeded ? null : "StartBackup",
            succeeded ? null : "BackupAgent.SourcesFailed", null, [new SourceRun("app-db", succeeded, succeeded ? null : "pg_dump: refused", 60, 1000)]);

    [Fact]
    public async Task Generations_are_created_never_replaced_a_racing_writer_is_kept_and_stock_restic_checks_the_repository()
    {
        await using var proxy = new AppendOnlyS3Proxy(s3);
        var repository = s3.NewRepository();
        var restic = new Restic(repository, Repositories.Password, s3.CaCertPath, new Dictionary<string, string>(s3.Env));
        await restic.RunOkAsync("init");
        using (var dump = new TestData(TestData.Kind.Random, 100_000))
            (await restic.RunAsync(["backup", "--stdin", "--stdin-filename", "app-db.dump", "--tag", "app-db"], dump)).EnsureSuccess("restic backup");
        await using var ours = await Repo.OpenAsync(RepositoryLocation.Open(proxy.Through(repository), s3.Options()), Repositories.Password);
        await using var other = await Repo.OpenAsync(RepositoryLocation.Open(repository, s3.Options()), Repositories.Password);

        Assert.Null(await RunHistoryStore.LoadAsync(ours, default));
        await RunHistoryStore.UpdateAsync(ours, h => h.Add(Run("night-1", 1)), default);
        // Another execution's Notify writes generation 2 between our read and our write of it.
        var raced = false;
        proxy.BeforePut = async key =>
        {
            if (raced || !key.EndsWith("/status/history-0000000002", StringComparison.Ordinal)) return;
            raced = true;
            await RunHistoryStore.UpdateAsync(other, h => h.Add(Run("manual-1", 2, succeeded: false)), default);
        };
        var stored = await RunHistoryStore.UpdateAsync(ours, h => h.Add(Run("night-3", 3)), default);

        Assert.Equal(1, proxy.PreconditionsFailed);
        Assert.Equal(["night-1", "manual-1", "night-3"], stored.Runs.Select(r => r.Execution));
        var loaded = await RunHistoryStore.LoadAsync(other, default);
        Assert.Equal(["night-1", "manual-1", "night-3"], loaded!.Runs.Select(r => r.Execution));
        Assert.Equal("pg_dump: refused", loaded.Runs[1].Sources.Single().Error);
        Assert.All(proxy.Puts.Where(p => p.Key.Contains("/status/", StringComparison.Ordinal)), p => Assert.Equal("*", p.IfNoneMatch));
        // The newest two generations stay; the first was removed once the third was written.
        Assert.Equal(["history-0000000002", "history-0000000003"], (await ListAsync(ours)).Order());

        // Encrypted with the repository's key: neither the source's name nor its error is in the stored bytes.
        var location = (S3RepositoryLocation)RepositoryLocation.Parse(repository);
        var bytes = s3.StoredObject(location.Bucket, $"{location.Prefix}/status/history-0000000003");
        Assert.False(bytes.AsSpan().IndexOf("app-db"u8) >= 0 || bytes.AsSpan().IndexOf("refused"u8) >= 0);

        var check = await restic.RunOkAsync("check", "--read-data");
        Assert.Contains("no errors were found", check.StdoutText);
        Assert.Single((await restic.JsonAsync("snapshots")).EnumerateArray());
    }

    [Fact]
    public async Task A_damaged_newest_generation_falls_back_to_the_one_before_and_two_damaged_ones_are_never_written_over()
    {
        using var dir = new TempDir();
        var backend = new LocalBackend(dir.Combine("repo"));
        await using var repo = await Repo.InitAsync(backend, Repositories.Password);
        await RunHistoryStore.UpdateAsync(repo, h => h.Add(Run("night-1", 1)), default);
        await RunHistoryStore.UpdateAsync(repo, h => h.Add(Run("night-2", 2)), default);
        var newest = dir.Combine("repo", "status", "history-0000000002");
        var bytes = File.ReadAllBytes(newest);
        bytes[^1] ^= 1;
        File.WriteAllBytes(newest, bytes);

        Assert.Equal(["night-1"], (await RunHistoryStore.LoadAsync(repo, default))!.Runs.Select(r => r.Execution));
        var stored = await RunHistoryStore.UpdateAsync(repo, h => h.Add(Run("night-3", 3)), default);
        Assert.Equal(["night-1", "night-3"], stored.Runs.Select(r => r.Execution));

        // Both kept generations damaged: nothing is written (an empty history would lose them), and the error says so.
        foreach (var name in new[] { "history-0000000002", "history-0000000003" })
            File.WriteAllBytes(dir.Combine("repo", "status", name), [1, 2, 3]);
        var e = await Assert.ThrowsAsync<RepositoryException>(() => RunHistoryStore.UpdateAsync(repo, h => h.Add(Run("night-4", 4)), default));
        Assert.Equal(ErrorKind.Damaged, e.Kind);
        Assert.Contains("status/history-0000000003 is damaged", e.Message);
        Assert.Equal(["history-0000000002", "history-0000000003"], (await ListAsync(repo)).Order());
    }

    [Fact]
    public void The_history_keeps_the_last_runs_in_time_order_one_per_execution_and_a_month_once_per_host()
    {
        var history = new RunHistory();
        foreach (var night in Enumerable.Range(0, RunHistory.MaxRuns + 10).Reverse()) history.Add(Run($"night-{night}", night));
        history.Add(Run("night-300", 300, succeeded: false)); // Notify retried: the run's record is replaced

        Assert.Equal(RunHistory.MaxRuns, history.Runs.Count);
        Assert.Equal("night-10", history.Runs[0].Execution);
        Assert.Equal(history.Runs.OrderBy(r => r.Started).Select(r => r.Execution), history.Runs.Select(r => r.Execution));
        Assert.False(Assert.Single(history.Runs, r => r.Execution == "night-300").Succeeded);

        history.RecordSummary("db-box", Night.AddDays(2), Night.AddDays(2));
        history.RecordSummary("db-box", Night.AddDays(20), Night.AddDays(20));
        history.RecordSummary("web-box", Night.AddDays(3), Night.AddDays(3));
        Assert.Equal(Night.AddDays(2), history.SummaryOf("db-box", Night.AddDays(29))!.At);
        Assert.Null(history.SummaryOf("db-box", Night.AddDays(30)));
        Assert.Equal(2, history.Summaries.Count);
    }

    private static async Task<List<string>> ListAsync(Repo repo)
    {
        var names = new List<string>();
        await foreach (var (name, _) in repo.Backend.ListAsync(FileKind.Status)) names.Add(name);
        return names;
    }
}
