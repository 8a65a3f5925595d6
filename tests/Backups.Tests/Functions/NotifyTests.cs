using System.Text.Json.Nodes;
using Backups.Functions.Contracts;
using Backups.Functions.Handlers;
using Backups.Functions.Handlers.Notify;
using Backups.Functions.Runtime;
using Backups.Tests.Aws;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Functions;

/// <summary>app-db backed up on 2026-10-31 (1 MiB) and in the run of 2026-11-15 (1.5 MiB), cache on 2026-10-31 (0.5 MiB).</summary>
public sealed class NotifyRepository : IAsyncLifetime
{
    public static readonly DateTimeOffset RunStart = new(2026, 11, 15, 3, 0, 0, TimeSpan.Zero);

    public SnapshotHistory History { get; private set; } = null!;

    public async Task InitializeAsync() => History = await SnapshotHistory.CreateAsync(
        ("app-db", new DateTimeOffset(2026, 10, 31, 3, 0, 0, TimeSpan.Zero), 1 << 20),
        ("cache", new DateTimeOffset(2026, 10, 31, 3, 1, 0, TimeSpan.Zero), 1 << 19),
        ("app-db", RunStart.AddMinutes(2), 3 << 19));

    public Task DisposeAsync()
    {
        History.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>Notify against aws-ses-v2-local (the email as SES stores it), a local webhook and a restic-made repository.</summary>
public sealed class NotifyTests(SesLocalFixture ses, NotifyRepository repository)
    : IClassFixture<SesLocalFixture>, IClassFixture<NotifyRepository>, IAsyncLifetime
{
    private const string DbPassword = "Pg-Pass-4471-zq";
    private static readonly DateTimeOffset RunStart = NotifyRepository.RunStart;
    private static readonly string TaskToken = "AQCEAAAAKgAAAAMAAAAAAAAAAc" + new string('x', 200) + "Zm9v==";
    private readonly RecordingAwsEndpoint _webhook = new();
    private readonly SnapshotHistory _history = repository.History;

    private NotifyFunction Function(FunctionEnvironment environment) => new(environment);

    private FunctionEnvironment Environment(params (string, string)[] extra) => new(_history.Variables(
    [
        ("AWS_REGION", "eu-west-1"), ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"), ("AWS_SECRET_ACCESS_KEY", "notify/secret"),
        ("AWS_ENDPOINT_URL_SESV2", ses.Endpoint.ToString()), ("NOTIFY_SENDER", "backups@example.com"),
        ("NOTIFY_RECIPIENTS", "ops@example.com, oncall@example.com"), ("BACKUP_HOST", "db-box"),
        ("NOTIFY_WEBHOOK_URL", new Uri(_webhook.Url, "hooks/T000/B000/XXXX").ToString()), ("BACKUP_LOG_GROUP", "/backups/agent"),
        .. extra,
    ]));

    private async Task<JsonNode> EmailAsync(string subject) =>
        Assert.Single(await ses.StoredEmailsAsync(), e => e!["subject"]!.GetValue<string>() == subject)!;

    [Fact]
    public async Task A_failure_emails_the_step_host_cause_sources_links_and_last_backups_without_secrets()
    {
        using var environment = Environment();
        var cause = $$"""{"succeeded":false,"failed_sources":["cache"],"sources":[{"name":"cache","error":"redis-cli: AUTH failed","stderr_tail":"REDISCLI_AUTH={{DbPassword}} rejected"}],"taskToken":"{{TaskToken}}","note":"repository password {{Repositories.Password}}","hook":"{{new Uri(_webhook.Url, "hooks/T000/B000/XXXX")}}"}""";
        var executionArn = $"arn:aws:states:eu-west-1:123456789012:execution:NightlyBackup:{Guid.NewGuid():N}";

        var result = await Function(environment).NotifyAsync(new NotifyInput
        {
            Outcome = NotifyOutcome.Failure, Step = "StartBackup", Error = "BackupAgent.SourcesFailed", Cause = cause,
            ExecutionArn = executionArn, ExecutionName = executionArn.Split(':')[^1],
        }, SnapshotHistory.Invocation());

        Assert.True(result.Sent);
        Assert.True(result.WebhookSent, result.WebhookError);
        Assert.Equal("Backup failed: StartBackup on db-box", result.Subject);
        var email = await EmailAsync("Backup failed: StartBackup on db-box");
        Assert.Equal(result.MessageId, email["messageId"]!.GetValue<string>());
        Assert.Equal("backups@example.com", email["from"]!.GetValue<string>());
        Assert.Equal(["ops@example.com", "oncall@example.com"], email["destination"]!["to"]!.AsArray().Select(a => a!.GetValue<string>()));
        var body = email["body"]!["text"]!.GetValue<string>();
        Assert.Contains("The backup workflow failed at StartBackup for db-box.", body);
        Assert.Contains("Error: BackupAgent.SourcesFailed", body);
        Assert.Contains("Sources affected: cache", body);
        Assert.Contains("redis-cli: AUTH failed", body);
        Assert.Contains($"Execution: {executionArn.Split(':')[^1]}", body);
        Assert.Contains($"https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/{Uri.EscapeDataString(executionArn)}", body);
        Assert.Contains("  app-db: 2026-11-15 03:02 UTC", body);
        Assert.Contains("  cache: 2026-10-31 03:01 UTC", body);
        Assert.Contains("CloudWatch Logs group /backups/agent", body);

        var hook = Assert.Single(_webhook.Requests);
        Assert.Equal("/hooks/T000/B000/XXXX", hook.Path);
        Assert.Equal(hook.Json["content"]!.GetValue<string>(), hook.Json["text"]!.GetValue<string>());
        Assert.StartsWith("Backup failed: StartBackup on db-box\n", hook.Json["content"]!.GetValue<string>());
        foreach (var text in new[] { body, hook.BodyText, email.ToJsonString() })
        {
            Assert.DoesNotContain(DbPassword, text);
            Assert.DoesNotContain(Repositories.Password, text);
            Assert.DoesNotContain(TaskToken[..60], text);
            Assert.DoesNotContain("hooks/T000", text);
        }
    }

    [Fact]
    public async Task A_failure_still_emails_when_the_repository_cannot_be_read()
    {
        using var environment = Environment(("RESTIC_PASSWORD", "wrong-password-31"));

        var result = await Function(environment).NotifyAsync(new NotifyInput
        {
            Outcome = NotifyOutcome.Failure, Step = "Verify", Error = "Backups.WrongPassword", Cause = "wrong password", Host = $"box-{Guid.NewGuid():N}",
        }, SnapshotHistory.Invocation());

        var body = (await EmailAsync(result.Subject!))["body"]!["text"]!.GetValue<string>();
        Assert.Contains("(the repository could not be read: Backups.WrongPassword: ", body);
        Assert.DoesNotContain("wrong-password-31", body);
    }

    [Fact]
    public async Task The_first_success_of_the_month_sends_a_summary_with_sizes_and_growth()
    {
        using var environment = Environment(("NOTIFY_WEBHOOK_URL", ""), ("BACKUP_HOST", $"box-{Guid.NewGuid():N}"));

        var result = await Function(environment).NotifyAsync(new NotifyInput { Outcome = NotifyOutcome.Success, ExecutionStartTime = RunStart },
            SnapshotHistory.Invocation());

        Assert.True(result.Sent);
        Assert.False(result.WebhookSent);
        var body = (await EmailAsync(result.Subject!))["body"]!["text"]!.GetValue<string>();
        Assert.StartsWith("Backups OK: box-", result.Subject);
        Assert.EndsWith(", November 2026", result.Subject);
        Assert.Matches(@"  app-db: snapshot [0-9a-f]{8} at 2026-11-15 03:02 UTC, 1\.5 MiB \(\+0\.5 MiB since 2026-10-31\)", body);
        Assert.Matches(@"  cache: snapshot [0-9a-f]{8} at 2026-10-31 03:01 UTC, 0\.5 MiB \(\+0\.0 MiB since 2026-10-31\)", body);
        Assert.Contains("Repository: 3 snapshots, ", body);
        Assert.Empty(_webhook.Requests);
    }

    [Fact]
    public async Task A_later_success_in_the_same_month_sends_nothing()
    {
        using var environment = Environment(("NOTIFY_WEBHOOK_URL", ""), ("BACKUP_HOST", $"box-{Guid.NewGuid():N}"));
        var first = await Function(environment).NotifyAsync(new NotifyInput { Outcome = NotifyOutcome.Success, ExecutionStartTime = RunStart },
            SnapshotHistory.Invocation());

        var result = await Function(environment).NotifyAsync(new NotifyInput { Outcome = NotifyOutcome.Success, ExecutionStartTime = RunStart.AddDays(1) },
            SnapshotHistory.Invocation());

        Assert.True(first.Sent);
        Assert.False(result.Sent);
        Assert.Matches(@"^the summary for November 2026 was sent on \d{4}-\d\d-\d\d \d\d:\d\d UTC$", result.Reason);
        Assert.Null(result.HistoryError);
        Assert.Empty(_webhook.Requests);
    }

    [Fact]
    public async Task A_success_with_warnings_emails_them_outside_the_summary_cadence()
    {
        using var environment = Environment((MonthlySummary.CadenceVariable, "never"));
        var function = FunctionCatalog.All["notify"](environment);
        // As the workflow passes it: the agent's run result, snake_case, with more members than Notify reads.
        var input = $$"""
            {"outcome": "success", "executionStartTime": "{{RunStart.AddDays(1):O}}", "executionName": "manual-1",
             "backupSources": [
               {"name": "app-db", "kind": "postgres", "succeeded": true, "snapshot_id": "{{new string('a', 64)}}"},
               {"name": "files", "kind": "paths", "succeeded": true, "warnings": ["cannot stat /srv/tmp/x.part: No such file or directory", "/srv/y was replaced during the backup; not saved"]}]}
            """;

        var output = await function.InvokeAsync(System.Text.Encoding.UTF8.GetBytes(input), SnapshotHistory.Invocation());

        var result = JsonNode.Parse(output)!;
        Assert.True(result["sent"]!.GetValue<bool>());
        Assert.Equal("Backups done with warnings: db-box", result["subject"]!.GetValue<string>());
        var body = (await EmailAsync("Backups done with warnings: db-box"))["body"]!["text"]!.GetValue<string>().ReplaceLineEndings("\n");
        Assert.Contains("the snapshots of files lack some files:", body);
        Assert.Contains("    cannot stat /srv/tmp/x.part: No such file or directory\n    /srv/y was replaced during the backup; not saved", body);
        Assert.DoesNotContain("app-db", body);
    }

    [Fact]
    public async Task The_catalogs_notify_names_a_missing_outcome()
    {
        using var environment = Environment();
        var function = FunctionCatalog.All["notify"](environment);

        var e = await Assert.ThrowsAsync<InvalidInputException>(() =>
            function.InvokeAsync("""{"step": "Verify", "error": "Backups.RepositoryDamaged"}"""u8.ToArray(), SnapshotHistory.Invocation()));

        Assert.StartsWith("invalid input at $: ", e.Message);
        Assert.Contains("'outcome'", e.Message);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _webhook.DisposeAsync().AsTask();
}
