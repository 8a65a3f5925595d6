namespace Backups.Functions.Runtime;

/// <summary>Creates one function from its environment; a failure becomes the Runtime API's init error.</summary>
public delegate ILambdaFunction FunctionFactory(FunctionEnvironment environment);

/// <summary>
/// The custom runtime's main loop: picks the function named by _HANDLER, then takes invocations one at a time
/// from the Runtime API and answers each with the result or an error document. An invocation that would run
/// into its deadline is cancelled and answered with <see cref="ErrorNames.DeadlineExceeded"/> a safety margin
/// before Lambda would kill the process, so the workflow sees a clean, catchable error instead of a timeout.
/// </summary>
public sealed class LambdaHost
{
    public const string MarginVariable = "FUNCTION_DEADLINE_MARGIN_MS";
    public static readonly TimeSpan DefaultMargin = TimeSpan.FromMilliseconds(1500);

    private readonly RuntimeApiClient _api;
    private readonly ILambdaFunction _function;
    private readonly FunctionEnvironment _environment;
    private readonly TimeSpan _margin;
    private readonly TextWriter _log;

    private LambdaHost(RuntimeApiClient api, ILambdaFunction function, FunctionEnvironment environment, TextWriter log)
    {
        _api = api;
        _function = function;
        _environment = environment;
        _log = log;
        _margin = int.TryParse(environment.Optional(MarginVariable), out var ms) && ms >= 0 ? TimeSpan.FromMilliseconds(ms) : DefaultMargin;
    }

    /// <returns>The process exit status: 0 when <paramref name="stop"/> ended the loop, 1 when initialization failed.</returns>
    public static async Task<int> RunAsync(IReadOnlyDictionary<string, FunctionFactory> functions, FunctionEnvironment environment,
        TextWriter log, CancellationToken stop)
    {
        if (environment.Optional("AWS_LAMBDA_RUNTIME_API") is not { } endpoint)
        {
            await log.WriteLineAsync("bootstrap: AWS_LAMBDA_RUNTIME_API is not set: this program runs inside AWS Lambda (custom runtime)");
            return 1;
        }
        using var api = new RuntimeApiClient(endpoint);
        ILambdaFunction function;
        try
        {
            var name = environment.Optional("_HANDLER") ?? "";
            if (!functions.TryGetValue(name, out var create))
                throw new FunctionFailure(ErrorNames.UnknownHandler,
                    $"no function is named '{name}' (_HANDLER); this bootstrap has {string.Join(", ", functions.Keys.Order(StringComparer.Ordinal))}");
            function = create(environment);
        }
        catch (Exception e)
        {
            var error = ToError(e, environment);
            await log.WriteLineAsync($"init error {error.ErrorType}: {error.ErrorMessage}");
            await api.SendInitErrorAsync(error, stop);
            return 1;
        }

        var host = new LambdaHost(api, function, environment, log);
        try
        {
            while (true) await host.InvokeNextAsync(stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return 0;
        }
    }

    private async Task InvokeNextAsync(CancellationToken stop)
    {
        using var deadline = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _environment.Time);
        var (context, input) = await _api.NextAsync(deadline.Token, _environment.Time, stop);
        // The AWS SDKs read the trace header from here, so their calls join the invocation's trace.
        Environment.SetEnvironmentVariable("_X_AMZN_TRACE_ID", context.TraceId);
        var budget = context.RemainingTime - _margin;
        deadline.CancelAfter(budget > TimeSpan.Zero ? budget : TimeSpan.Zero);

        // On a thread-pool thread, so that a handler that blocks synchronously cannot hold up the deadline.
        var work = Task.Run(() => _function.InvokeAsync(input, context), CancellationToken.None);
        byte[] output;
        try
        {
            output = await work.WaitAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            // The handler may still be running; its eventual outcome has nobody to go to.
            _ = work.ContinueWith(t => t.Exception, TaskScheduler.Default);
            await ReportAsync(context, new FunctionError(
                $"the function did not finish {_margin.TotalSeconds:0.###} s before its deadline ({context.Deadline:O}) and was stopped",
                ErrorNames.DeadlineExceeded), stop);
            return;
        }
        catch (Exception e)
        {
            await ReportAsync(context, ToError(e, _environment), stop);
            return;
        }
        try
        {
            await _api.SendResponseAsync(context.RequestId, output, stop);
        }
        catch (HttpRequestException e) when (e.StatusCode is { } status && (int)status is >= 400 and < 500)
        {
            // Lambda refuses a response over its payload limit (6 MB); the invocation must still end, with a reason.
            await ReportAsync(context, new FunctionError($"the Runtime API refused the result ({output.Length} bytes): {e.Message}",
                ErrorNames.Prefix + "ResponseRejected"), stop);
        }
    }

    private async Task ReportAsync(InvocationContext context, FunctionError error, CancellationToken stop)
    {
        await _log.WriteLineAsync($"{context.RequestId} {error.ErrorType}: {error.ErrorMessage}");
        await _api.SendErrorAsync(context.RequestId, error, stop);
    }

    private static FunctionError ToError(Exception e, FunctionEnvironment environment) => new(environment.Clean(e.Message), ErrorNames.Of(e));
}
