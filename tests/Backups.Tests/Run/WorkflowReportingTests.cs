using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Backups.Aws;
using Backups.Tests.Aws;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Run;

/// <summary>
/// `run` with a task token, against a local endpoint that records the calls and stands in for both SSM
/// (the repository password is a SecureString parameter) and Step Functions.
/// </summary>
public sealed class WorkflowReportingTests : IAsyncLifetime
{
    private const string TaskToken = "AAAAKgAAAAIAAAAAAAAAAQ-task-token-secret";
    private const string RepositoryPassword = "ssm-Stored-Password-51e0";
    private const string AccessKey = "AKIDEXAMPLE", SecretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", Region = "eu-west-1";
    private readonly TempDir _dir = new();
    private RecordingAwsEndpoint _aws = null!;

    public async Task InitializeAsync()
    {
        _aws = new RecordingAwsEndpoint();
        await new Agent(_dir.Combine("repo"), RepositoryPassword).RunOkAsync("init");
    }

    public async Task DisposeAsync()
    {
        await _aws.DisposeAsync();
        _dir.Dispose();
    }

    private async Task<ProcessResult> RunAsync(string password, params string[] sources)
    {
        _aws.Script("AmazonSSM.GetParameter", new ScriptedResponse(200,
            $$$"""{"Parameter":{"Name":"/backups/restic-password","Type":"SecureString","Value":"{{{password}}}","Version":1}}"""));
        var config = _dir.Combine("config.json");
        await File.WriteAllTextAsync(config, $$"""
            { "repository": "{{_dir.Combine("repo")}}", "password": { "ssm": "/backups/restic-password" },
              "heartbeat_seconds": 1, "sources": [ {{string.Join(",", sources)}} ] }
            """);
        return await Processes.RunAsync(Agent.Program, ["run", "--config", config], new Dictionary<string, string>
        {
            ["BACKUP_AGENT_TASK_TOKEN"] = TaskToken,
            ["AWS_ENDPOINT_URL"] = _aws.Url.ToString(),
            ["AWS_ACCESS_KEY_ID"] = AccessKey,
            ["AWS_SECRET_ACCESS_KEY"] = SecretKey,
            ["AWS_REGION"] = Region,
        });
    }

    private List<RecordedRequest> Calls(string target) => _aws.Requests.Where(r => r.Target == target).ToList();

    private static void AssertNoSecrets(ProcessResult r)
    {
        foreach (var secret in new[] { TaskToken, RepositoryPassword, SecretKey })
        {
            Assert.DoesNotContain(secret, r.StdoutText);
            Assert.DoesNotContain(secret, r.Stderr);
        }
    }

    [Fact]
    public async Task A_slow_run_sends_heartbeats_then_its_result_signed_as_the_sdk_signs()
    {
        var r = await RunAsync(RepositoryPassword, """{ "name": "slow", "kind": "command", "command": ["sh", "-c", "sleep 3.5; echo done"] }""");

        Assert.True(r.ExitCode == 0, r.Stderr);
        var ssm = Assert.Single(Calls("AmazonSSM.GetParameter"));
        Assert.Equal("/backups/restic-password", ssm.Json["Name"]!.GetValue<string>());
        Assert.True(ssm.Json["WithDecryption"]!.GetValue<bool>());

        var heartbeats = Calls("AWSStepFunctions.SendTaskHeartbeat");
        Assert.True(heartbeats.Count >= 2, $"{heartbeats.Count} heartbeats during a 3.5 s source");
        Assert.All(heartbeats, h => Assert.Equal(TaskToken, h.Json["taskToken"]!.GetValue<string>()));
        var success = Assert.Single(Calls("AWSStepFunctions.SendTaskSuccess"));
        Assert.Equal(success, _aws.Requests[^1]);
        Assert.Equal(TaskToken, success.Json["taskToken"]!.GetValue<string>());
        var output = JsonNode.Parse(success.Json["output"]!.GetValue<string>())!;
        Assert.True(output["succeeded"]!.GetValue<bool>());
        Assert.Equal("slow", output["sources"]![0]!["name"]!.GetValue<string>());
        Assert.Equal(64, output["sources"]![0]!["snapshot_id"]!.GetValue<string>().Length);
        Assert.Empty(Calls("AWSStepFunctions.SendTaskFailure"));

        var signedAt = DateTimeOffset.ParseExact(success.Header("X-Amz-Date")!, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        var sdk = SdkSigner.Sign(HttpMethod.Post, new Uri(_aws.Url, success.Path),
            [new("Content-Type", success.Header("Content-Type")!), new("X-Amz-Target", success.Target!)],
            success.Body, new AwsCredentials(AccessKey, SecretKey, null), Region, "states", signedAt);
        Assert.Equal(sdk["Authorization"], success.Header("Authorization"));
        AssertNoSecrets(r);
    }

    [Fact]
    public async Task A_failed_source_fails_the_task_with_the_result_as_cause()
    {
        var r = await RunAsync(RepositoryPassword,
            """{ "name": "ok", "kind": "command", "command": ["echo", "fine"] }""",
            """{ "name": "broken", "kind": "command", "command": ["sh", "-c", "echo 'no such table' >&2; exit 4"] }""");

        Assert.Equal(18, r.ExitCode);
        var failure = Assert.Single(Calls("AWSStepFunctions.SendTaskFailure"));
        Assert.Equal("BackupAgent.SourcesFailed", failure.Json["error"]!.GetValue<string>());
        var cause = JsonDocument.Parse(failure.Json["cause"]!.GetValue<string>()).RootElement;
        Assert.Equal(["broken"], cause.GetProperty("failed_sources").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("no such table", cause.GetProperty("sources")[1].GetProperty("error").GetString());
        Assert.Empty(Calls("AWSStepFunctions.SendTaskSuccess"));
        AssertNoSecrets(r);
    }

    [Fact]
    public async Task A_run_that_cannot_start_fails_the_task_with_the_kind_of_error()
    {
        var r = await RunAsync("not-the-password", """{ "name": "ok", "kind": "command", "command": ["echo", "fine"] }""");

        Assert.Equal(12, r.ExitCode);
        var failure = Assert.Single(Calls("AWSStepFunctions.SendTaskFailure"));
        Assert.Equal("BackupAgent.WrongPassword", failure.Json["error"]!.GetValue<string>());
        Assert.DoesNotContain("not-the-password", failure.BodyText);
        AssertNoSecrets(r);
    }
}
