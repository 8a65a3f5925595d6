using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Backups.Tests.Support;

/// <summary>One request as the endpoint received it.</summary>
/// <param name="Path">Path and query as sent (e.g. "/" or "/v2/email/outbound-emails").</param>
/// <param name="Headers">Case-insensitive; repeated headers joined by commas.</param>
public sealed record RecordedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string BodyText => Encoding.UTF8.GetString(Body);

    public JsonNode Json => JsonNode.Parse(Body) ?? throw new InvalidOperationException("the body is JSON null");

    /// <summary>The AWS JSON action, e.g. "AWSStepFunctions.SendTaskSuccess"; null for REST calls.</summary>
    public string? Target => Headers.GetValueOrDefault("X-Amz-Target");

    public string? Header(string name) => Headers.GetValueOrDefault(name);
}

/// <param name="DropConnection">Break the answer off and close the connection, as a crashing host or proxy would.</param>
public sealed record ScriptedResponse(int Status, string Body = "{}", IReadOnlyDictionary<string, string>? Headers = null,
    bool DropConnection = false)
{
    public static readonly ScriptedResponse Ok = new(200);

    public static readonly ScriptedResponse Drop = new(0, DropConnection: true);

    /// <summary>An AWS JSON error body: {"__type": type, "message": message}.</summary>
    public static ScriptedResponse AwsError(int status, string type, string message) =>
        new(status, new JsonObject { ["__type"] = type, ["message"] = message }.ToJsonString());
}

/// <summary>
/// A plain-HTTP stand-in for an AWS service on 127.0.0.1: records every request (method, path, headers, body) and
/// answers each with the next response scripted for its X-Amz-Target (REST calls: its path), by default 200 "{}".
/// </summary>
public sealed class RecordingAwsEndpoint : IAsyncDisposable
{
    private readonly HttpListener _listener;
    private readonly Task _loop;
    private readonly List<RecordedRequest> _requests = [];
    private readonly Dictionary<string, Queue<ScriptedResponse>> _script = new(StringComparer.Ordinal);
    private int _disposed;

    public RecordingAwsEndpoint()
    {
        (_listener, Url) = LocalListener.Listen();
        _loop = LocalListener.ServeAsync(_listener, RecordAndAnswerAsync);
    }

    /// <summary>http://127.0.0.1:PORT/</summary>
    public Uri Url { get; }

    public IReadOnlyList<RecordedRequest> Requests
    {
        get { lock (_requests) return [.. _requests]; }
    }

    /// <summary>Answers the next requests for <paramref name="targetOrPath"/> with these, in order; then the default.</summary>
    public void Script(string targetOrPath, params ScriptedResponse[] responses)
    {
        lock (_script)
        {
            if (!_script.TryGetValue(targetOrPath, out var queue)) _script[targetOrPath] = queue = new();
            foreach (var r in responses) queue.Enqueue(r);
        }
    }

    private async Task RecordAndAnswerAsync(HttpListenerContext context)
    {
        var request = context.Request;
        using var body = new MemoryStream();
        await request.InputStream.CopyToAsync(body);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        // The indexer gives the value as sent; GetValues would split it at commas.
        foreach (var name in request.Headers.AllKeys.OfType<string>()) headers[name] = request.Headers[name] ?? "";
        var path = request.RawUrl ?? "/";
        var recorded = new RecordedRequest(request.HttpMethod, path, headers, body.ToArray());
        lock (_requests) _requests.Add(recorded);

        var answer = Next(recorded.Target ?? path.Split('?')[0]);
        var response = context.Response;
        if (answer.DropConnection)
        {
            // HttpListener's Abort alone still sends an empty 200; a body cut short is a failure on any client.
            response.ContentLength64 = 1 << 20;
            await response.OutputStream.WriteAsync("{"u8.ToArray());
            response.Abort();
            return;
        }
        response.StatusCode = answer.Status;
        response.ContentType = "application/x-amz-json-1.0";
        foreach (var (name, value) in answer.Headers ?? new Dictionary<string, string>()) response.Headers[name] = value;
        var bytes = Encoding.UTF8.GetBytes(answer.Body);
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes);
        response.Close();
    }

    private ScriptedResponse Next(string key)
    {
        lock (_script)
            return _script.TryGetValue(key, out var queue) && queue.TryDequeue(out var next) ? next : ScriptedResponse.Ok;
    }

    /// <summary>Stops listening; a test may call it early to make the endpoint unreachable.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        LocalListener.Stop(_listener);
        await _loop;
    }
}
