using System.Text;
using Backups.Aws.Secrets;
using Backups.Core.Backends;
using Backups.Core.Reporting;
using Backups.Functions.Contracts;
using Backups.Functions.Handlers;
using Backups.Functions.Runtime;
using Backups.Tests.Aws;
using Backups.Tests.Support;
using Xunit;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Tests.Functions;

/// <summary>
/// Notify adds every execution it reports on to the run history, as the workflow passes it (JSON in, through the
/// function catalog): a failed backup with the agent's result as its cause, a backup that failed as a whole, a
/// failure after the backup, and a success with the agent's per-source results; a retried invocation is one record;
/// secrets are masked in it as in the email.
/// </summary>
public sealed class NotifyRunHistoryTests(SesLocalFixture ses, NotifyRepository repository)
    : IClassFixture<SesLocalFixture>, IClassFixture<NotifyRepository>
{
    private static readonly DateTimeOffset Start = new(2026, 11, 20, 3, 0, 0, TimeSpan.Zero);

    /// <summary>Why the run could not be recorded, as the function answers the workflow (null: recorded).</summary>
    private async Task<string?> NotifyAsync(string input)
    {
        using var environment = new FunctionEnvironment(repository.History.Variables(
        [
            ("AWS_REGION", "eu-west-1"), ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"), ("AWS_SECRET_ACCESS_KEY", "notify/secret"),
            ("AWS_ENDPOINT_URL_SESV2", ses.Endpoint.ToString()), ("NOTIFY_SENDER", "backups@example.com"),
            ("NOTIFY_RECIPIENTS", "ops@example.com"), ("BACKUP_HOST", "history-box"), ("NOTIFY_SUCCESS_SUMMARY", "never"),
        ]));
        var output = await FunctionCatalog.All["notify"](environment).InvokeAsync(Encoding.UTF8.GetBytes(input), SnapshotHistory.Invocation());
        return System.Text.Json.Nodes.JsonNode.Parse(output)!["historyError"]?.GetValue<string>();
    }

    [Fact]
    public async Task Every_execution_is_recorded_with_its_sources_outcomes_errors_durations_and_bytes()
    {
        // The agent's result as the cause of a failed backup (a JSON string inside the input).
        var cause = System.Text.Json.JsonSerializer.Serialize($$"""
            {"succeeded": false, "failed_sources": ["cache"], "duration_seconds": 75.5, "sources": [
              {"name": "app-db", "kind": "postgres", "succeeded": true, "bytes_added": 5000, "duration_seconds": 70.5},
              {"name": "cache", "kind": "redis", "succeeded": false, "duration_seconds": 5, "error": "redis-cli: AUTH failed for {{Support.Repositories.Password}}"}]}
            """);
        var results = new[]
        {
            await NotifyAsync($$"""{"outcome": "failure", "step": "StartBackup", "error": "BackupAgent.SourcesFailed", "cause": {{cause}}, "executionName": "night-20", "executionStartTime": "{{Start:O}}"}"""),
            await NotifyAsync($$"""{"outcome": "failure", "step": "StartBackup", "error": "States.Timeout", "executionName": "night-21", "executionStartTime": "{{Start.AddDays(1):O}}"}"""),
            await NotifyAsync($$"""{"outcome": "failure", "step": "Verify", "error": "Backups.RepositoryDamaged", "cause": "pack 0123 is damaged", "executionName": "night-22", "executionStartTime": "{{Start.AddDays(2):O}}"}"""),
            // Notify retried: the first attempt's record is replaced by the second's.
            await NotifyAsync(Success(bytesAdded: 1)),
            await NotifyAsync(Success(bytesAdded: 7000)),
        };

        Assert.All(results, Assert.Null);
        await using var repo = await Repo.OpenAsync(new LocalBackend(repository.History.Repository), Support.Repositories.Password);
        var runs = (await RunHistoryStore.LoadAsync(repo, default))!.Runs.Where(r => r.Host == "history-box").ToList();
        Assert.Equal(["night-20", "night-21", "night-22", "night-23"], runs.Select(r => r.Execution));

        var backupFailed = runs[0];
        Assert.Equal((false, "StartBackup", "BackupAgent.SourcesFailed", Start), (backupFailed.Succeeded, backupFailed.FailedStep, backupFailed.Error, backupFailed.Started));
        Assert.Equal(new SourceRun("app-db", true, null, 70.5, 5000), backupFailed.Sources[0]);
        Assert.Equal(new SourceRun("cache", false, $"redis-cli: AUTH failed for {Redactor.Mask}", 5, null), backupFailed.Sources[1]);
        Assert.DoesNotContain(Support.Repositories.Password, backupFailed.Cause);

        // No results: every source the repository knows failed with the step's error.
        Assert.Equal([("app-db", false, "States.Timeout"), ("cache", false, "States.Timeout")],
            runs[1].Sources.Select(s => (s.Source, s.Succeeded, s.Error)));
        // A failure after the backup: the run failed, its sources are not blamed.
        Assert.Equal(("Verify", "pack 0123 is damaged"), (runs[2].FailedStep, runs[2].Cause));
        Assert.Empty(runs[2].Sources);
        Assert.True(runs[3].Succeeded);
        Assert.Equal([new SourceRun("app-db", true, null, 60, 7000), new SourceRun("cache", true, null, 4, 0)], runs[3].Sources);
    }

    private static string Success(long bytesAdded) => $$"""
        {"outcome": "success", "executionName": "night-23", "executionStartTime": "{{Start.AddDays(3):O}}", "backupSources": [
          {"name": "app-db", "kind": "postgres", "succeeded": true, "bytes_added": {{bytesAdded}}, "duration_seconds": 60, "snapshot_id": "{{new string('a', 64)}}"},
          {"name": "cache", "kind": "redis", "succeeded": true, "bytes_added": 0, "duration_seconds": 4}]}
        """;

}
