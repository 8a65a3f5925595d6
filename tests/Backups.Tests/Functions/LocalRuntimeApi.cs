using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Backups.Tests.Support;

namespace Backups.Tests.Functions;

/// <summary>What the runtime answered to one invocation (or to init).</summary>
/// <param name="ErrorType">The Lambda-Runtime-Function-Error-Type header of an error; null for a response.</param>
public sealed record RuntimeAnswer(string Kind, string Body, string? ErrorType, DateTimeOffset ReceivedAt)
{
    public JsonNode Json => JsonNode.Parse(Body)!;
}

/// <summary>
/// The Lambda Runtime API on 127.0.0.1, as Lambda's side of a custom runtime sees it: hands out queued
/// invocations on GET .../invocation/next (holding the request until one is queued) and records responses,
/// invocation errors and the init error.
/// </summary>
public sealed class LocalRuntimeApi : IAsyncDisposable
{
    private const string Prefix = "/2018-06-01/runtime/";
    private readonly HttpListener _listener;
    private readonly Uri _url;
    private readonly Task _loop;
    private readonly Channel<(string Id, string Body, DateTimeOffset Deadline, string? Arn, string? Trace)> _queue = Channel.CreateUnbounded<(string, string, DateTimeOffset, string?, string?)>();
    private readonly Dictionary<string, TaskCompletionSource<RuntimeAnswer>> _answers = [];
    private readonly CancellationTokenSource _stop = new();

    public LocalRuntimeApi()
    {
        (_listener, _url) = LocalListener.Listen();
        _loop = LocalListener.ServeAsync(_listener, HandleAsync);
    }

    /// <summary>AWS_LAMBDA_RUNTIME_API: host:port.</summary>
    public string HostAndPort => $"{_url.Host}:{_url.Port}";

    public TaskCompletionSource<RuntimeAnswer> InitError { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <returns>The invocation's request id.</returns>
    public string Invoke(string eventJson, TimeSpan timeout, string? functionArn = null, string? traceId = null)
    {
        var id = Guid.NewGuid().ToString();
        lock (_answers) _answers[id] = new(TaskCreationOptions.RunContinuationsAsynchronously);
        _queue.Writer.TryWrite((id, eventJson, DateTimeOffset.UtcNow + timeout, functionArn, traceId));
        return id;
    }

    public Task<RuntimeAnswer> AnswerAsync(string requestId)
    {
        lock (_answers) return _answers[requestId].Task.WaitAsync(TimeSpan.FromSeconds(60));
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var path = context.Request.RawUrl ?? "";
        var body = await new StreamReader(context.Request.InputStream, Encoding.UTF8).ReadToEndAsync();
        var response = context.Response;
        if (context.Request.HttpMethod == "GET" && path == Prefix + "invocation/next")
        {
            var (id, json, deadline, arn, trace) = await _queue.Reader.ReadAsync(_stop.Token);
            response.Headers["Lambda-Runtime-Aws-Request-Id"] = id;
            response.Headers["Lambda-Runtime-Deadline-Ms"] = deadline.ToUnixTimeMilliseconds().ToString();
            if (arn != null) response.Headers["Lambda-Runtime-Invoked-Function-Arn"] = arn;
            if (trace != null) response.Headers["Lambda-Runtime-Trace-Id"] = trace;
            await WriteAsync(response, 200, json);
            return;
        }
        var errorType = context.Request.Headers["Lambda-Runtime-Function-Error-Type"];
        if (path == Prefix + "init/error")
        {
            InitError.TrySetResult(new RuntimeAnswer("init-error", body, errorType, DateTimeOffset.UtcNow));
            await WriteAsync(response, 202, "{}");
            return;
        }
        var parts = path.StartsWith(Prefix, StringComparison.Ordinal) ? path[Prefix.Length..].Split('/') : [];
        TaskCompletionSource<RuntimeAnswer>? answer = null;
        if (parts is ["invocation", var requestId, "response" or "error"])
            lock (_answers) answer = _answers.GetValueOrDefault(requestId);
        if (answer == null)
        {
            await WriteAsync(response, 400, """{"errorMessage":"unknown request","errorType":"InvalidRequestID"}""");
            return;
        }
        answer.TrySetResult(new RuntimeAnswer(parts[2], body, errorType, DateTimeOffset.UtcNow));
        await WriteAsync(response, 202, """{"status":"OK"}""");
    }

    private static async Task WriteAsync(HttpListenerResponse response, int status, string body)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        var bytes = Encoding.UTF8.GetBytes(body);
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes);
        response.Close();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        LocalListener.Stop(_listener);
        await _loop;
        _stop.Dispose();
    }
}
