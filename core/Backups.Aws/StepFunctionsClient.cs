using System.Text;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Backups.Aws;

/// <summary>
/// The Step Functions actions this system uses, shaped like AWSSDK.StepFunctions' client (which the registry here
/// lacks) so that swapping it in is a small change: the callback actions of a .waitForTaskToken task, and
/// StartExecution.
/// </summary>
public sealed class StepFunctionsClient(AwsClientOptions options)
{
    /// <summary>The API's limits: error ≤ 256 and cause ≤ 32768 characters, output and input ≤ 256 KiB of UTF-8.</summary>
    public const int MaxErrorLength = 256, MaxCauseLength = 32768, MaxPayloadBytes = 256 * 1024;

    private const string TruncatedMarker = "... [truncated]";

    private readonly AwsJsonClient _client = new("states", "states", options);

    public Uri Endpoint => _client.Endpoint;

    public Task SendTaskSuccessAsync(string taskToken, string outputJson, CancellationToken cancellationToken = default)
    {
        CheckPayload(outputJson, nameof(outputJson));
        return CallAsync("SendTaskSuccess", new SendTaskSuccessRequest(taskToken, outputJson),
            StepFunctionsJson.Default.SendTaskSuccessRequest, taskToken, cancellationToken);
    }

    /// <summary>Too long an error or cause is cut to the API's limit rather than making the report itself fail.</summary>
    public Task SendTaskFailureAsync(string taskToken, string error, string cause, CancellationToken cancellationToken = default) =>
        CallAsync("SendTaskFailure",
            new SendTaskFailureRequest(taskToken, Text.Truncate(error, MaxErrorLength), Text.Truncate(cause, MaxCauseLength, TruncatedMarker)),
            StepFunctionsJson.Default.SendTaskFailureRequest, taskToken, cancellationToken);

    public Task SendTaskHeartbeatAsync(string taskToken, CancellationToken cancellationToken = default) =>
        CallAsync("SendTaskHeartbeat", new SendTaskHeartbeatRequest(taskToken),
            StepFunctionsJson.Default.SendTaskHeartbeatRequest, taskToken, cancellationToken);

    /// <param name="name">Unique per state machine for 90 days; with a name, a retried call cannot start a second execution.</param>
    /// <returns>The execution's ARN.</returns>
    public async Task<string> StartExecutionAsync(string stateMachineArn, string? name, string inputJson,
        CancellationToken cancellationToken = default)
    {
        CheckPayload(inputJson, nameof(inputJson));
        var response = await _client.InvokeAsync(Target("StartExecution"), new StartExecutionRequest(stateMachineArn, name, inputJson),
            StepFunctionsJson.Default.StartExecutionRequest, StepFunctionsJson.Default.StartExecutionResponse,
            cancellationToken: cancellationToken);
        return response.ExecutionArn;
    }

    private Task CallAsync<TRequest>(string action, TRequest request, JsonTypeInfo<TRequest> requestType,
        string taskToken, CancellationToken cancellationToken) =>
        _client.InvokeAsync(Target(action), request, requestType, StepFunctionsJson.Default.EmptyResponse,
            [taskToken], cancellationToken);

    private static string Target(string action) => $"AWSStepFunctions.{action}";

    /// <summary>Refused here, with a message that tells why without quoting the payload, rather than by the service.</summary>
    private static void CheckPayload(string json, string parameter)
    {
        var bytes = Encoding.UTF8.GetByteCount(json);
        if (bytes > MaxPayloadBytes)
            throw new ArgumentException($"{bytes} bytes of JSON; Step Functions accepts at most {MaxPayloadBytes}", parameter);
    }
}

internal sealed record SendTaskSuccessRequest(string TaskToken, string Output);

internal sealed record SendTaskFailureRequest(string TaskToken, string Error, string Cause);

internal sealed record SendTaskHeartbeatRequest(string TaskToken);

internal sealed record StartExecutionRequest(string StateMachineArn, string? Name, string Input);

internal sealed record StartExecutionResponse(string ExecutionArn);

/// <summary>The answer of actions that return nothing ({}); whatever fields it may gain are ignored.</summary>
internal sealed record EmptyResponse;

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(SendTaskSuccessRequest))]
[JsonSerializable(typeof(SendTaskFailureRequest))]
[JsonSerializable(typeof(SendTaskHeartbeatRequest))]
[JsonSerializable(typeof(StartExecutionRequest))]
[JsonSerializable(typeof(StartExecutionResponse))]
[JsonSerializable(typeof(EmptyResponse))]
internal sealed partial class StepFunctionsJson : JsonSerializerContext;
