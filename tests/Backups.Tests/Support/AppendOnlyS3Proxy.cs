using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Backups.Tests.Support;

/// <summary>
/// A proxy in front of the real s3rver that adds the two features s3rver lacks. Conditional writes as AWS
/// documents them: a PUT with <c>If-None-Match: *</c> on a key that exists answers 412 PreconditionFailed and
/// writes nothing. Retention: a DELETE of a key put under retention answers 403 AccessDenied and the object stays,
/// which is S3's answer to deleting a version under governance retention without bypass (a plain DELETE in a
/// versioned AWS bucket leaves a delete marker instead; this proxy stands for a store or a policy that refuses,
/// the case prune must survive). Everything else goes to s3rver untouched, with the client's Host header so that
/// s3rver checks the client's signature. Plain HTTP towards the client (our S3 backend sends plain bodies;
/// restic, which would send aws-chunked ones over HTTP, talks to s3rver directly).
/// </summary>
public sealed class AppendOnlyS3Proxy : IAsyncDisposable
{
    private readonly S3rverFixture _s3;
    private readonly HttpListener _listener;
    private readonly HttpClient _upstream;
    private readonly Task _serving;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _keyLocks = new();
    private readonly ConcurrentDictionary<string, byte> _retained = new();

    public AppendOnlyS3Proxy(S3rverFixture s3)
    {
        _s3 = s3;
        (_listener, Endpoint) = LocalListener.Listen();
        var trusted = X509CertificateLoader.LoadCertificateFromFile(s3.CaCertPath);
        var handler = new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, _) => cert?.GetCertHashString() == trusted.GetCertHashString();
        _upstream = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(60) };
        _serving = LocalListener.ServeAsync(_listener, AnswerAsync);
    }

    /// <summary>http://127.0.0.1:PORT/</summary>
    public Uri Endpoint { get; }

    /// <summary>Conditional PUTs refused with 412 so far.</summary>
    public int PreconditionsFailed;

    /// <summary>DELETEs refused with 403 so far.</summary>
    public int DeletesRefused;

    /// <summary>Every PUT seen: its key and the headers append-only writes depend on.</summary>
    public ConcurrentQueue<(string Key, string? IfNoneMatch, string? Crc32)> Puts { get; } = new();

    /// <summary>Runs before a PUT of a key it accepts is looked at (a test plants an object there first).</summary>
    public Func<string, Task>? BeforePut { get; set; }

    /// <summary>PUTs of keys it accepts are written and then answered 500, as if the answer had been lost.</summary>
    public Func<string, bool>? LoseAnswer { get; set; }

    /// <summary>A repository string through the proxy, for a repository string that points at s3rver.</summary>
    public string Through(string repository) =>
        repository.Replace(_s3.Endpoint.GetLeftPart(UriPartial.Authority), Endpoint.GetLeftPart(UriPartial.Authority));

    /// <summary>Puts a key (bucket/key, as in the URL path) under governance retention.</summary>
    public void Retain(string bucketAndKey) => _retained[bucketAndKey] = 0;

    /// <summary>Ends every retention (as when the retain-until dates have passed).</summary>
    public void ReleaseAll() => _retained.Clear();

    private async Task AnswerAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var path = Uri.UnescapeDataString(request.Url!.AbsolutePath.TrimStart('/'));
        if (request.HttpMethod == "PUT") Puts.Enqueue((path, request.Headers["If-None-Match"], request.Headers["x-amz-checksum-crc32"]));
        if (request.HttpMethod == "DELETE" && _retained.ContainsKey(path))
        {
            Interlocked.Increment(ref DeletesRefused);
            await ErrorAsync(context.Response, 403, "AccessDenied", "Access Denied because object protected by object lock.");
            return;
        }
        if (request.HttpMethod != "PUT" || request.Headers["If-None-Match"] != "*" || !string.IsNullOrEmpty(request.Url.Query))
        {
            await ForwardAsync(context, path);
            return;
        }
        var key = _keyLocks.GetOrAdd(path, _ => new SemaphoreSlim(1));
        await key.WaitAsync();
        try
        {
            if (BeforePut != null) await BeforePut(path);
            if (File.Exists(StoredPath(path)))
            {
                Interlocked.Increment(ref PreconditionsFailed);
                await ErrorAsync(context.Response, 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
                return;
            }
            await ForwardAsync(context, path);
        }
        finally
        {
            key.Release();
        }
    }

    private string StoredPath(string path) => Path.Combine([_s3.DataDirectory, .. path.Split('/')]) + "._S3rver_object";

    private async Task ForwardAsync(HttpListenerContext context, string path)
    {
        var request = context.Request;
        var response = context.Response;
        using var message = new HttpRequestMessage(new HttpMethod(request.HttpMethod), new Uri(_s3.Endpoint, request.RawUrl));
        var body = new MemoryStream();
        await request.InputStream.CopyToAsync(body);
        message.Content = new ByteArrayContent(body.ToArray());
        foreach (var name in request.Headers.AllKeys)
        {
            if (name is null || name.Equals("Expect", StringComparison.OrdinalIgnoreCase) || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
                || name.Equals("Connection", StringComparison.OrdinalIgnoreCase) || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
                continue;
            var value = request.Headers[name]!;
            if (name.Equals("Host", StringComparison.OrdinalIgnoreCase)) message.Headers.Host = value;
            else if (!message.Headers.TryAddWithoutValidation(name, value)) message.Content.Headers.TryAddWithoutValidation(name, value);
        }
        using var answer = await _upstream.SendAsync(message, HttpCompletionOption.ResponseHeadersRead);
        if (request.HttpMethod == "PUT" && answer.IsSuccessStatusCode && LoseAnswer?.Invoke(path) == true)
        {
            await ErrorAsync(response, 500, "InternalError", "We encountered an internal error. Please try again.");
            return;
        }
        response.StatusCode = (int)answer.StatusCode;
        foreach (var (name, values) in answer.Headers.Concat(answer.Content.Headers))
        {
            if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
                || name.Equals("Connection", StringComparison.OrdinalIgnoreCase) || name.Equals("Keep-Alive", StringComparison.OrdinalIgnoreCase))
                continue;
            response.Headers[name] = string.Join(',', values);
        }
        var bytes = await answer.Content.ReadAsByteArrayAsync();
        if (answer.Content.Headers.ContentLength is { } length) response.ContentLength64 = length;
        if (request.HttpMethod != "HEAD") await response.OutputStream.WriteAsync(bytes);
        response.Close();
    }

    private static async Task ErrorAsync(HttpListenerResponse response, int status, string code, string message)
    {
        var xml = Encoding.UTF8.GetBytes(
            $"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message><RequestId>proxy</RequestId></Error>");
        response.StatusCode = status;
        response.ContentType = "application/xml";
        response.ContentLength64 = xml.Length;
        await response.OutputStream.WriteAsync(xml);
        response.Close();
    }

    public async ValueTask DisposeAsync()
    {
        LocalListener.Stop(_listener);
        await _serving;
        _upstream.Dispose();
    }
}
