using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using Backups.Aws;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Aws;

public sealed class StepFunctionsClientTests : IAsyncLifetime
{
    private const string Region = "eu-west-1";
    private const string AccessKey = "ASIATESTACCESSKEY";
    private const string SecretKey = "test/Secret+Key/DoNotLeak";
    private const string SessionToken = "IQoJb3JpZ2luX2VjEXAMPLE//token+DoNotLeak==";
    private const string TaskToken = "AQCEAAAAKgAAAAMAAAAAAAAAAcTaskTokenDoNotLeak+/=";
    private const string MachineArn = "arn:aws:states:eu-west-1:123456789012:stateMachine:backups";

    private static readonly AwsRetrySettings Quick = new(MaxAttempts: 4, FirstDelay: TimeSpan.FromMilliseconds(1), MaxDelay: TimeSpan.FromMilliseconds(5));

    private readonly RecordingAwsEndpoint _endpoint = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _endpoint.DisposeAsync();

    [Fact]
    public async Task Each_action_sends_its_target_and_json()
    {
        _endpoint.Script("AWSStepFunctions.StartExecution",
            new ScriptedResponse(200, """{"executionArn":"arn:aws:states:eu-west-1:123456789012:execution:backups:run-1","startDate":1.77E9}"""),
            new ScriptedResponse(200, """{"executionArn":"arn:aws:states:eu-west-1:123456789012:execution:backups:2f0c","startDate":1.77E9}"""));
        var client = Client();

        await client.SendTaskSuccessAsync(TaskToken, """{"snapshot":"4f2a"}""");
        await client.SendTaskFailureAsync(TaskToken, "Backups.RepositoryLocked", "locked by pid 42");
        await client.SendTaskHeartbeatAsync(TaskToken);
        var arn = await client.StartExecutionAsync(MachineArn, "run-1", """{"job":"nightly"}""");
        await client.StartExecutionAsync(MachineArn, null, "{}");

        Assert.Equal("arn:aws:states:eu-west-1:123456789012:execution:backups:run-1", arn);
        var requests = _endpoint.Requests;
        Assert.Equal(
            ["SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat", "StartExecution", "StartExecution"],
            requests.Select(r => r.Target!.Replace("AWSStepFunctions.", "")));
        Assert.All(requests, r =>
        {
            Assert.Equal("POST", r.Method);
            Assert.Equal("/", r.Path);
            Assert.Equal("application/x-amz-json-1.0", r.Header("Content-Type"));
        });
        AssertJson(new JsonObject { ["taskToken"] = TaskToken, ["output"] = """{"snapshot":"4f2a"}""" }, requests[0]);
        AssertJson(new JsonObject { ["taskToken"] = TaskToken, ["error"] = "Backups.RepositoryLocked", ["cause"] = "locked by pid 42" }, requests[1]);
        AssertJson(new JsonObject { ["taskToken"] = TaskToken }, requests[2]);
        AssertJson(new JsonObject { ["stateMachineArn"] = MachineArn, ["name"] = "run-1", ["input"] = """{"job":"nightly"}""" }, requests[3]);
        AssertJson(new JsonObject { ["stateMachineArn"] = MachineArn, ["input"] = "{}" }, requests[4]);
    }

    [Fact]
    public async Task Requests_carry_a_SigV4_authorization()
    {
        await Client().SendTaskHeartbeatAsync(TaskToken);

        var request = Assert.Single(_endpoint.Requests);
        Assert.Matches(new Regex(
            $"^AWS4-HMAC-SHA256 Credential={AccessKey}/[0-9]{{8}}/{Region}/states/aws4_request, "
            + "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token;x-amz-target, "
            + "Signature=[0-9a-f]{64}$"), request.Header("Authorization"));
        Assert.Matches("^[0-9]{8}T[0-9]{6}Z$", request.Header("X-Amz-Date"));
        Assert.Equal(SessionToken, request.Header("X-Amz-Security-Token"));
        Assert.Equal(_endpoint.Url.Authority, request.Header("Host"));
    }

    /// <summary>What arrived (host, path, headers, body) verifies with AWSSDK.Core's signer: nothing between the
    /// signer and the wire changed a signed byte.</summary>
    [Fact]
    public async Task The_signature_on_the_wire_is_the_sdks_signature()
    {
        var time = new DateTimeOffset(2026, 2, 28, 23, 59, 59, TimeSpan.Zero);
        await Client(time: new FixedTime(time)).SendTaskSuccessAsync(TaskToken, """{"ü":"✓"}""");

        var request = Assert.Single(_endpoint.Requests);
        var sdk = SdkSigner.Sign(HttpMethod.Post, new Uri(_endpoint.Url, request.Path),
            [new("Content-Type", request.Header("Content-Type")!), new("X-Amz-Target", request.Target!)],
            request.Body, new AwsCredentials(AccessKey, SecretKey, SessionToken), Region, "states", time);
        foreach (var header in new[] { "Authorization", "X-Amz-Date", "X-Amz-Content-SHA256", "X-Amz-Security-Token" })
            Assert.Equal(sdk[header], request.Header(header));
    }

    [Fact]
    public async Task Retries_server_errors_throttling_and_broken_connections()
    {
        _endpoint.Script("AWSStepFunctions.SendTaskHeartbeat",
            ScriptedResponse.AwsError(500, "InternalFailure", "try again"),
            ScriptedResponse.AwsError(400, "com.amazonaws.swf.base.model#ThrottlingException", "Rate exceeded"),
            ScriptedResponse.Drop);

        await Client().SendTaskHeartbeatAsync(TaskToken);

        var requests = _endpoint.Requests;
        Assert.Equal(4, requests.Count);
        Assert.All(requests, r => Assert.Equal(requests[0].BodyText, r.BodyText));
        Assert.All(requests, r => Assert.StartsWith("AWS4-HMAC-SHA256 ", r.Header("Authorization")));
    }

    [Fact]
    public async Task Gives_up_after_max_attempts()
    {
        _endpoint.Script("AWSStepFunctions.SendTaskSuccess",
            [.. Enumerable.Repeat(new ScriptedResponse(503, "<html>Service Unavailable</html>"), Quick.MaxAttempts)]);

        var e = await Assert.ThrowsAsync<AwsServiceException>(() => Client().SendTaskSuccessAsync(TaskToken, "{}"));

        Assert.Equal(503, e.StatusCode);
        Assert.Equal("Http503", e.ErrorCode);
        Assert.Contains("Service Unavailable", e.Message);
        Assert.Equal(Quick.MaxAttempts, _endpoint.Requests.Count);
    }

    [Fact]
    public async Task An_error_answer_becomes_aws_service_exception_without_retrying()
    {
        _endpoint.Script("AWSStepFunctions.SendTaskSuccess",
            ScriptedResponse.AwsError(400, "com.amazonaws.swf.service.model#TaskTimedOut", "Task Timed Out: 'arn:aws:states:...'"));

        var e = await Assert.ThrowsAsync<AwsServiceException>(() => Client().SendTaskSuccessAsync(TaskToken, "{}"));

        Assert.Equal("TaskTimedOut", e.ErrorCode);
        Assert.Equal(400, e.StatusCode);
        Assert.Equal("Task Timed Out: 'arn:aws:states:...'", e.ServiceMessage);
        Assert.Single(_endpoint.Requests);
    }

    /// <summary>A failed signature check answers with the canonical request, which holds the session token; other
    /// errors may quote the request. None of it may reach a log through an exception message.</summary>
    [Fact]
    public async Task Secrets_stay_out_of_exception_messages()
    {
        _endpoint.Script("AWSStepFunctions.SendTaskFailure", ScriptedResponse.AwsError(403, "InvalidSignatureException",
            $"The request signature we calculated does not match. x-amz-security-token:{SessionToken} "
            + $"key {SecretKey} taskToken {TaskToken}"));

        var e = await Assert.ThrowsAsync<AwsServiceException>(() => Client().SendTaskFailureAsync(TaskToken, "E", "C"));

        Assert.Equal("InvalidSignatureException", e.ErrorCode);
        foreach (var text in new[] { e.Message, e.ServiceMessage, e.ToString() })
        {
            Assert.Contains("[redacted]", text);
            foreach (var secret in new[] { SecretKey, SessionToken, TaskToken }) Assert.DoesNotContain(secret, text);
        }
    }

    [Fact]
    public async Task An_unreachable_endpoint_fails_without_secrets()
    {
        var url = _endpoint.Url;
        await _endpoint.DisposeAsync();

        var e = await Assert.ThrowsAsync<HttpRequestException>(() => Client(url).SendTaskSuccessAsync(TaskToken, "{}"));

        foreach (var secret in new[] { SecretKey, SessionToken, TaskToken }) Assert.DoesNotContain(secret, e.ToString());
    }

    [Fact]
    public async Task Error_and_cause_are_cut_to_the_api_limits()
    {
        // A surrogate pair across each limit: cutting it in half would send invalid UTF-16.
        var error = new string('e', StepFunctionsClient.MaxErrorLength - 1) + "😀" + new string('e', 50);
        var cause = new string('c', StepFunctionsClient.MaxCauseLength - 16) + "😀" + new string('c', 10_000);

        await Client().SendTaskFailureAsync(TaskToken, error, cause);

        var body = Assert.Single(_endpoint.Requests).Json;
        var sentError = body["error"]!.GetValue<string>();
        var sentCause = body["cause"]!.GetValue<string>();
        Assert.Equal(new string('e', StepFunctionsClient.MaxErrorLength - 1), sentError);
        Assert.True(sentCause.Length <= StepFunctionsClient.MaxCauseLength);
        Assert.StartsWith(new string('c', StepFunctionsClient.MaxCauseLength - 16), sentCause);
        Assert.EndsWith("[truncated]", sentCause);
        var strict = new UTF8Encoding(false, throwOnInvalidBytes: true);
        strict.GetByteCount(sentError);
        strict.GetByteCount(sentCause);
    }

    [Fact]
    public async Task Oversized_output_is_refused_before_sending()
    {
        var output = $"\"{new string('x', StepFunctionsClient.MaxPayloadBytes)}\"";

        var e = await Assert.ThrowsAsync<ArgumentException>(() => Client().SendTaskSuccessAsync(TaskToken, output));

        Assert.Equal("outputJson", e.ParamName);
        Assert.DoesNotContain("xxxx", e.Message);
        Assert.DoesNotContain(TaskToken, e.Message);
        Assert.Empty(_endpoint.Requests);
    }

    [Fact]
    public void The_default_endpoint_is_the_regional_one()
    {
        var options = new AwsClientOptions { Credentials = new AwsCredentialSource(Region, Credentials()) };
        Assert.Equal(new Uri("https://states.eu-west-1.amazonaws.com/"), new StepFunctionsClient(options).Endpoint);
    }

    private StepFunctionsClient Client(Uri? url = null, TimeProvider? time = null) => new(new AwsClientOptions
    {
        Credentials = new AwsCredentialSource(Region, Credentials()),
        ServiceUrl = url ?? _endpoint.Url,
        Retry = Quick,
        TimeProvider = time ?? TimeProvider.System,
    });

    private static SessionAWSCredentials Credentials() => new(AccessKey, SecretKey, SessionToken);

    private static void AssertJson(JsonObject expected, RecordedRequest request) =>
        Assert.True(JsonNode.DeepEquals(expected, request.Json), $"expected {expected.ToJsonString()}, sent {request.BodyText}");
}

/// <summary>A clock stopped at one moment, so that a signature can be recomputed for the same time.</summary>
internal sealed class FixedTime(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
