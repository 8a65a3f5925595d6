using System.Text.Json.Serialization;
using Backups.Aws.Secrets;
using Backups.Functions.Runtime;
using Xunit;

namespace Backups.Tests.Functions;

public sealed record CountInput(int Count, string? Label = null);

public sealed record CountOutput(int Doubled, string RequestId, string? FunctionArn, string? TraceEnvironment);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, RespectNullableAnnotations = true)]
[JsonSerializable(typeof(CountInput))]
[JsonSerializable(typeof(CountOutput))]
internal sealed partial class TestFunctionJson : JsonSerializerContext;

/// <summary>The bootstrap's host, in process, against a local Runtime API, with functions made for the test.</summary>
public sealed class LambdaHostTests : IAsyncLifetime
{
    private const string DbPassword = "Pg-Secret-7f3e9a";
    private readonly LocalRuntimeApi _api = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _handlerCancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly StringWriter _log = new();
    private Task<int> _host = Task.FromResult(0);

    private Dictionary<string, FunctionFactory> Catalog() => new()
    {
        ["double"] = env => LambdaFunction.Of<CountInput, CountOutput>((input, context) => Task.FromResult(
                new CountOutput(input.Count * 2, context.RequestId, context.InvokedFunctionArn, Environment.GetEnvironmentVariable("_X_AMZN_TRACE_ID"))),
            TestFunctionJson.Default.CountInput, TestFunctionJson.Default.CountOutput),
        ["leaky"] = env => LambdaFunction.Of<CountInput, CountOutput>(async (input, context) =>
            {
                var password = await env.Secrets.ResolveAsync(new SecretRef { Env = "DB_PASSWORD" }, context.CancellationToken);
                throw new InvalidOperationException($"pg_dump: connection to db failed with password {password}");
            },
            TestFunctionJson.Default.CountInput, TestFunctionJson.Default.CountOutput),
        ["slow"] = env => LambdaFunction.Of<CountInput, CountOutput>(async (input, context) =>
            {
                context.CancellationToken.Register(() => _handlerCancelled.TrySetResult());
                // Ignores its token on purpose: the host must answer anyway.
                await Task.Delay(TimeSpan.FromMinutes(2), CancellationToken.None);
                return new CountOutput(0, "", null, null);
            },
            TestFunctionJson.Default.CountInput, TestFunctionJson.Default.CountOutput),
    };

    private void Start(string handler, params (string, string)[] extra)
    {
        var variables = new Dictionary<string, string>
        {
            ["AWS_LAMBDA_RUNTIME_API"] = _api.HostAndPort, ["_HANDLER"] = handler, ["DB_PASSWORD"] = DbPassword,
            [LambdaHost.MarginVariable] = "1000",
        };
        foreach (var (k, v) in extra) variables[k] = v;
        var environment = new FunctionEnvironment(variables);
        _host = Task.Run(async () =>
        {
            using (environment) return await LambdaHost.RunAsync(Catalog(), environment, _log, _stop.Token);
        });
    }

    [Fact]
    public async Task Answers_each_invocation_with_the_handlers_result()
    {
        Start("double");
        const string arn = "arn:aws:lambda:eu-west-1:123456789012:function:double";
        const string trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

        var first = _api.Invoke("""{"count": 21, "unknownMember": true}""", TimeSpan.FromMinutes(1), arn, trace);
        var answer = await _api.AnswerAsync(first);
        var second = await _api.AnswerAsync(_api.Invoke("""{"count": 5}""", TimeSpan.FromMinutes(1)));

        Assert.Equal("response", answer.Kind);
        Assert.Equal(42, answer.Json["doubled"]!.GetValue<int>());
        Assert.Equal(first, answer.Json["requestId"]!.GetValue<string>());
        Assert.Equal(arn, answer.Json["functionArn"]!.GetValue<string>());
        Assert.Equal(trace, answer.Json["traceEnvironment"]!.GetValue<string>());
        Assert.Equal(10, second.Json["doubled"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_handler_exception_becomes_an_error_without_the_secret()
    {
        Start("leaky");

        var answer = await _api.AnswerAsync(_api.Invoke("""{"count": 1}""", TimeSpan.FromMinutes(1)));

        Assert.Equal("error", answer.Kind);
        Assert.Equal("Backups.Error", answer.ErrorType);
        Assert.Equal("Backups.Error", answer.Json["errorType"]!.GetValue<string>());
        Assert.Equal("pg_dump: connection to db failed with password [redacted]", answer.Json["errorMessage"]!.GetValue<string>());
        Assert.DoesNotContain(DbPassword, answer.Body);
        Assert.DoesNotContain(DbPassword, _log.ToString());
        Assert.Null(answer.Json["stackTrace"]);
    }

    [Theory]
    [InlineData("""{"count": "many"}""", "$.count")]
    [InlineData("""{"count": 1, "label": 7}""", "$.label")]
    [InlineData("""{"count": 1""", "$.count")]
    public async Task Invalid_input_is_an_error_naming_the_field(string input, string path)
    {
        Start("double");

        var answer = await _api.AnswerAsync(_api.Invoke(input, TimeSpan.FromMinutes(1)));
        var next = await _api.AnswerAsync(_api.Invoke("""{"count": 2}""", TimeSpan.FromMinutes(1)));

        Assert.Equal("Backups.InvalidInput", answer.ErrorType);
        Assert.StartsWith($"invalid input at {path}: ", answer.Json["errorMessage"]!.GetValue<string>());
        Assert.Equal(4, next.Json["doubled"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_handler_running_past_its_deadline_is_stopped_and_reported_before_it()
    {
        Start("slow");
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(4);

        var answer = await _api.AnswerAsync(_api.Invoke("""{"count": 1}""", deadline - DateTimeOffset.UtcNow));

        Assert.Equal("error", answer.Kind);
        Assert.Equal("Backups.DeadlineExceeded", answer.ErrorType);
        Assert.Contains("did not finish 1 s before its deadline", answer.Json["errorMessage"]!.GetValue<string>());
        Assert.True(answer.ReceivedAt < deadline, $"answered at {answer.ReceivedAt:O}, deadline {deadline:O}");
        Assert.True(_handlerCancelled.Task.IsCompleted, "the handler's token was not cancelled");
    }

    [Fact]
    public async Task An_unknown_handler_name_is_an_init_error()
    {
        Start("no-such-function");

        var init = await _api.InitError.Task.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, await _host.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("Backups.UnknownHandler", init.ErrorType);
        Assert.Equal("no function is named 'no-such-function' (_HANDLER); this bootstrap has double, leaky, slow",
            init.Json["errorMessage"]!.GetValue<string>());
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await _api.DisposeAsync();
        await _host.WaitAsync(TimeSpan.FromSeconds(30));
        _stop.Dispose();
    }
}
