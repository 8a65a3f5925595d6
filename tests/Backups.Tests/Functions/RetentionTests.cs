using System.Text;
using System.Text.Json;
using Backups.Core.Retention;
using Backups.Functions.Contracts;
using Backups.Functions.Handlers;
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
        var policy = new RetentionPolicy { Last = 2 };
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

        var result = await ApplyAsync(new RetentionInput { Policy = new RetentionPolicy { Last = 1 }, DryRun = true });

        Assert.True(result.DryRun);
        Assert.Equal(4, result.Removed.Count);
        Assert.Equal(0, result.BytesFreed);
        Assert.Equal(files, Directory.EnumerateFiles(_history.Repository, "*", SearchOption.AllDirectories).Order().ToList());
    }

    [Theory]
    [InlineData("""{ "policy": { "keepLast": -2 } }""", "$.policy", "keepLast must be 0 or more")]
    [InlineData("""{ "policy": { "keepWithin": "1w" } }""", "$.policy", "invalid unit 'w'")]
    [InlineData("""{ "policy": { "keepWithinMonthly": 3 } }""", "$.policy", "keepWithinMonthly")]
    [InlineData("""{ "policy": { "keepDayly": 3 } }""", "$.policy", "unknown keep rule 'keepDayly'")]
    [InlineData("""{ "policy": { "keepLast": 1 }, "groupBy": "color" }""", "$.groupBy", "color")]
    [InlineData("""{ "policy": { } }""", "$.policy", "empty policy")]
    [InlineData("""{ "policy": { "keepLast": 1 }, "sourcePolicies": { "sources": { "app-db": { "keepDaily": "two" } } } }""", "$.sourcePolicies", "keepDaily")]
    [InlineData("""{ "policy": { "keepLast": 1 }, "sourcePolicies": { "tags": { "pre-deploy": { } } } }""", "$.sourcePolicies", "the policy of tag pre-deploy is empty")]
    public async Task Bad_input_is_refused_naming_the_field(string json, string field, string reason)
    {
        var function = FunctionCatalog.All["retention"](new FunctionEnvironment(_history.Variables()));
        var e = await Assert.ThrowsAsync<InvalidInputException>(() => function.InvokeAsync(Encoding.UTF8.GetBytes(json), SnapshotHistory.Invocation()));
        Assert.StartsWith($"invalid input at {field}", e.Message);
        Assert.Contains(reason, e.Message);
        Assert.Equal(6, (await _history.Restic.JsonAsync("snapshots")).GetArrayLength());
    }

    /// <summary>Every keep-within variant through the handler, as the workflow passes it: restic's decision (a dry run).</summary>
    [Theory]
    [InlineData("keepWithin", "keep-within")]
    [InlineData("keepWithinHourly", "keep-within-hourly")]
    [InlineData("keepWithinDaily", "keep-within-daily")]
    [InlineData("keepWithinWeekly", "keep-within-weekly")]
    [InlineData("keepWithinMonthly", "keep-within-monthly")]
    [InlineData("keepWithinYearly", "keep-within-yearly")]
    public async Task Every_keep_within_variant_decides_as_restic(string member, string flag)
    {
        var function = FunctionCatalog.All["retention"](new FunctionEnvironment(_history.Variables()));
        var json = $$"""{ "policy": { "{{member}}": "2d" }, "dryRun": true }""";

        var output = await function.InvokeAsync(Encoding.UTF8.GetBytes(json), SnapshotHistory.Invocation());

        var result = JsonSerializer.Deserialize(output, FunctionJson.Default.RetentionResult)!;
        var restic = JsonDocument.Parse((await _history.Restic.RunOkAsync("forget", "--dry-run", "--json", $"--{flag}", "2d")).StdoutText);
        var kept = restic.RootElement.EnumerateArray().SelectMany(g => g.GetProperty("keep").EnumerateArray()).Select(s => s.GetProperty("id").GetString());
        Assert.Equal(kept.Order(), result.Kept.Order());
        Assert.NotEmpty(result.Removed);
        Assert.Contains("2d", result.Policy);
    }
}
