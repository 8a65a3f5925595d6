using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Backups.Functions.Contracts;

namespace Backups.Functions.Runtime;

/// <summary>
/// The Lambda Runtime API (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html) at
/// AWS_LAMBDA_RUNTIME_API: the next invocation, its response or error, and an init error.
/// </summary>
public sealed class RuntimeApiClient : IDisposable
{
    public const string ErrorTypeHeader = "Lambda-Runtime-Function-Error-Type";
    private const string Version = "2018-06-01";

    private readonly HttpClient _http;

    /// <param name="hostAndPort">AWS_LAMBDA_RUNTIME_API, e.g. "127.0.0.1:9001".</param>
    public RuntimeApiClient(string hostAndPort)
    {
        // "next" is a long poll that lasts until an event comes; the endpoint is local, so no other timeout applies.
        _http = new HttpClient { BaseAddress = new Uri($"http://{hostAndPort}/{Version}/"), Timeout = Timeout.InfiniteTimeSpan };
    }

    public async Task<(InvocationContext Context, byte[] Event)> NextAsync(CancellationToken invocationToken, TimeProvider time,
        CancellationToken ct)
    {
        using var response = await _http.GetAsync("runtime/invocation/next", ct);
        response.EnsureSuccessStatusCode();
        var headers = response.Headers;
        var context = new InvocationContext
        {
            RequestId = Header(headers, "Lambda-Runtime-Aws-Request-Id")
                ?? throw new InvalidOperationException("the Runtime API sent an invocation without Lambda-Runtime-Aws-Request-Id"),
            Deadline = long.TryParse(Header(headers, "Lambda-Runtime-Deadline-Ms"), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
                ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
                : throw new InvalidOperationException("the Runtime API sent an invocation without a valid Lambda-Runtime-Deadline-Ms"),
            InvokedFunctionArn = Header(headers, "Lambda-Runtime-Invoked-Function-Arn"),
            TraceId = Header(headers, "Lambda-Runtime-Trace-Id"),
            CancellationToken = invocationToken,
            TimeProvider = time,
        };
        return (context, await response.Content.ReadAsByteArrayAsync(ct));
    }

    public Task SendResponseAsync(string requestId, byte[] json, CancellationToken ct) =>
        PostAsync($"runtime/invocation/{Uri.EscapeDataString(requestId)}/response", json, null, ct);

    public Task SendErrorAsync(string requestId, FunctionError error, CancellationToken ct) =>
        PostAsync($"runtime/invocation/{Uri.EscapeDataString(requestId)}/error", Serialize(error), error.ErrorType, ct);

    /// <summary>Lambda then fails the invocation that started the environment with this error and discards it.</summary>
    public Task SendInitErrorAsync(FunctionError error, CancellationToken ct) =>
        PostAsync("runtime/init/error", Serialize(error), error.ErrorType, ct);

    private async Task PostAsync(string path, byte[] body, string? errorType, CancellationToken ct)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        if (errorType != null) request.Headers.TryAddWithoutValidation(ErrorTypeHeader, errorType);
        using var response = await _http.SendAsync(request, ct);
        response.EnsureSuccessStatusCode();
    }

    private static byte[] Serialize(FunctionError error) => JsonSerializer.SerializeToUtf8Bytes(error, FunctionJson.Default.FunctionError);

    private static string? Header(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    public void Dispose() => _http.Dispose();
}
