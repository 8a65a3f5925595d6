using Backups.Core.Backends;
using Backups.Core.Wal;
using Backups.Functions.Contracts;
using Backups.Functions.Handlers.Freshness;
using Backups.Functions.Runtime;
using Backups.Tests.Support;
using Xunit;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Tests.Functions;

/// <summary>One repository for every test: app-db backed up 50 h and 2 h ago, cache 30 h ago, files 1 h ago.</summary>
public sealed class FreshnessRepository : IAsyncLifetime
{
    public SnapshotHistory History { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var now = DateTimeOffset.UtcNow;
        History = await SnapshotHistory.CreateAsync(
            ("app-db", now.AddHours(-50), 1000),
            ("app-db", now.AddHours(-2), 2000),
            ("cache", now.AddHours(-30), 3000),
            ("files", now.AddHours(-1), 4000));
    }

    public Task DisposeAsync()
    {
        History.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class FreshnessTests(FreshnessRepository repository) : IClassFixture<FreshnessRepository>
{
    private readonly SnapshotHistory _history = repository.History;

    private async Task<FreshnessResult> CheckAsync(FreshnessInput input, params (string, string)[] variables)
    {
        using var environment = new FunctionEnvironment(_history.Variables(variables));
        return await new FreshnessFunction(environment).CheckAsync(input, SnapshotHistory.Invocation());
    }

    [Fact]
    public async Task Stale_and_missing_sources_fail_with_a_catchable_name()
    {
        var e = await Assert.ThrowsAsync<FunctionFailure>(() => CheckAsync(new FreshnessInput { ExpectedSources = ["app-db", "cache", "logs"] }));

        Assert.Equal("Backups.StaleBackups", e.ErrorType);
        Assert.Matches(@"^2 of 3 sources have no snapshot in the last 25 h: cache \(latest \d{4}-\d\d-\d\d \d\d:\d\d UTC, 30 h ago\), logs \(no snapshot\)$", e.Message);
    }

    [Fact]
    public async Task Without_failing_the_result_lists_every_source_and_its_age()
    {
        var result = await CheckAsync(new FreshnessInput { ExpectedSources = ["app-db", "cache", "logs"], FailWhenStale = false });

        Assert.False(result.AllFresh);
        Assert.Equal(["cache", "logs"], result.Stale);
        Assert.Equal(["app-db", "cache", "logs"], result.Sources.Select(s => s.Name));
        var appDb = result.Sources[0];
        Assert.False(appDb.Stale);
        Assert.InRange(appDb.AgeHours!.Value, 1.99, 2.5);
        var snapshots = await _history.Restic.JsonAsync("snapshots", "--tag", "app-db", "--latest", "1");
        Assert.Equal(snapshots[0].GetProperty("id").GetString(), appDb.LatestSnapshotId);
        Assert.InRange(result.Sources[1].AgeHours!.Value, 29.99, 30.5);
        Assert.Null(result.Sources[2].LatestSnapshotTime);
    }

    [Fact]
    public async Task Without_expected_sources_every_source_in_the_repository_is_checked()
    {
        var result = await CheckAsync(new FreshnessInput(), (FreshnessFunction.MaxAgeVariable, "36"));

        Assert.True(result.AllFresh);
        Assert.Equal(36, result.MaxAgeHours);
        Assert.Equal(["app-db", "cache", "files"], result.Sources.Select(s => s.Name).Order());
        Assert.Empty(result.Stale);
    }

    [Fact]
    public async Task A_wal_archive_older_than_its_rpo_fails_naming_the_source_and_the_age()
    {
        // The nightly facts snapshot is an hour old (fresh) and records a 10-minute RPO; the WAL batch was written
        // just now, but its file reached the archiver two hours ago: the file's time is the one that counts.
        using var history = await SnapshotHistory.CreateAsync(("cluster", DateTimeOffset.UtcNow.AddHours(-1), 500));
        await history.Restic.RunOkAsync("tag", "--tag", "cluster", "--add", "pg-facts,pg-rpo-seconds=600");
        await using (var repo = await Repo.OpenAsync(new LocalBackend(history.Repository), Repositories.Password))
            await WalWriter.SaveAsync(repo, "cluster", "db-box",
                [new WalFile(WalFileName.Parse("000000010000000000000007"), new byte[1000], DateTimeOffset.UtcNow.AddHours(-2))], CancellationToken.None);
        using var environment = new FunctionEnvironment(history.Variables());

        var e = await Assert.ThrowsAsync<FunctionFailure>(() => new FreshnessFunction(environment).CheckAsync(new FreshnessInput(), SnapshotHistory.Invocation()));

        Assert.Equal("Backups.StaleWalArchive", e.ErrorType);
        Assert.Matches(@"^WAL archive older than its RPO: cluster \(newest 000000010000000000000007 written \d{4}-\d\d-\d\d \d\d:\d\d UTC, 2 h ago; RPO 10 min\)$", e.Message);
    }

    [Fact]
    public async Task A_wrong_password_is_a_repository_error()
    {
        using var environment = new FunctionEnvironment(_history.Variables(("RESTIC_PASSWORD", "not the password")));

        var e = await Assert.ThrowsAnyAsync<Exception>(() =>
            new FreshnessFunction(environment).CheckAsync(new FreshnessInput(), SnapshotHistory.Invocation()));

        Assert.Equal("Backups.WrongPassword", ErrorNames.Of(e));
    }
}
