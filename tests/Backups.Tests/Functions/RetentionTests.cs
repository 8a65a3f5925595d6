using Backups.Functions.Contracts;
using Backups.Functions.Handlers.Retention;
using Backups.Functions.Runtime;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Functions;

/// <summary>The Retention function against restic-made repositories: restic's decisions, data gone, nothing kept broken.</summary>
public sealed class RetentionTests : IAsyncLifetime
{
    private SnapshotHistory _history = null!;

    public async Task InitializeAsync()
    {
        // Five nights of app-db, each 2 MB of its own data, and one cache snapshot.
        var night = DateTimeOffset.UtcNow.Date.AddHours(3);
        _history = await SnapshotHistory.CreateAsync(
            ("app-db", night.AddDays(-4), 2_000_001), ("app-db", night.AddDays(-3), 2_000_002), ("app-db", night.AddDays(-2), 2_000_003),
            ("app-db", night.AddDays(-1), 2_000_004), ("app-db", night, 2_000_005), ("cache", night, 1_000_000));
    }

    public Task DisposeAsync()
    {
        _history.Dispose();
        return Task.CompletedTask;
    }

    private Task<RetentionResult> ApplyAsync(RetentionInput input)
    {
        var environment = new FunctionEnvironment(_history.Variables());
        return new RetentionFunction(environment).ApplyAsync(input, SnapshotHistory.Invocation());
    }


    [Fact]
    public async Task Forget_and_prune_keep_what_restic_keeps_and_free_the_rest()
    {
        var policy = new RetentionPolicyInput { KeepLast = 2 };
        var restics = (await _history.Restic.RunOkAsync("forget", "--dry-run", "--json", "--keep-last", "2")).StdoutText;
        var before = Repositories.DataBytes(_history.Repository);

        var result = await ApplyAsync(new RetentionInput { Policy = policy });

        Assert.Equal("keep 2 latest snapshots", result.Policy);
        Assert.Equal(3, result.Removed.Count);
        Assert.Equal(3, result.Kept.Count);
        Assert.All(result.Removed, id => Assert.Contains($"\"id\":\"{id}\"", restics));
        Assert.True(result.Pruned);
        Assert.True(result.PacksDeleted > 0);
        Assert.Equal(before - Repositories.DataBytes(_history.Repository), result.BytesFreed);
        Assert.InRange(result.BytesFreed, 3 * 2_000_000 * 9 / 10, before);
        var left = (await _history.Restic.JsonAsync("snapshots")).EnumerateArray().Select(s => s.GetProperty("id").GetString()).Order();
        Assert.Equal(result.Kept.Order(), left);
        await _history.Restic.CheckAsync(readData: true);
    }

    [Fact]
    public async Task A_dry_run_changes_nothing()
    {
        var files = Directory.EnumerateFiles(_history.Repository, "*", SearchOption.AllDirectories).Order().ToList();

        var result = await ApplyAsync(new RetentionInput { Policy = new RetentionPolicyInput { KeepLast = 1 }, DryRun = true });

        Assert.True(result.DryRun);
        Assert.Equal(4, result.Removed.Count);
        Assert.Equal(0, result.BytesFreed);
        Assert.Equal(files, Directory.EnumerateFiles(_history.Repository, "*", SearchOption.AllDirectories).Order().ToList());
    }

    [Theory]
    [InlineData(-1, null, null, "$.policy")]
    [InlineData(1, "1w", null, "$.policy")]
    [InlineData(1, null, "color", "$.groupBy")]
    [InlineData(0, null, null, "$.policy")]
    public async Task Bad_input_is_refused_naming_the_field(int keepLast, string? within, string? groupBy, string field)
    {
        var input = new RetentionInput { Policy = new RetentionPolicyInput { KeepLast = keepLast, KeepWithin = within }, GroupBy = groupBy };
        var e = await Assert.ThrowsAsync<InvalidInputException>(() => ApplyAsync(input));
        Assert.StartsWith($"invalid input at {field}", e.Message);
        Assert.Equal(6, (await _history.Restic.JsonAsync("snapshots")).GetArrayLength());
    }
}
