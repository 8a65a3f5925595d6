using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Xml.Linq;
using Backups.Aws;

namespace Backups.Tests.Support;

/// <summary>
/// A proxy in front of the real s3rver that adds the three features s3rver lacks. Conditional writes as AWS
/// documents them: a PUT with <c>If-None-Match: *</c> on a key that exists answers 412 PreconditionFailed and
/// writes nothing. Retention: a DELETE of a key put under retention answers 403 AccessDenied and the object stays,
/// which is S3's answer to deleting a version under governance retention without bypass (a plain DELETE in a
/// versioned AWS bucket leaves a delete marker instead; this proxy stands for a store or a policy that refuses,
/// the case prune must survive). Tags set at upload: see <see cref="TagSet"/>. Everything else goes to s3rver untouched, with the client's Host header so that
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
        IReadOnlyList<(string Key, string Value)>? tags = null;
        if (request.HttpMethod == "PUT" && string.IsNullOrEmpty(request.Url!.Query) && request.Headers["x-amz-tagging"] is { } tagging)
        {
            tags = TagSet(tagging);
            if (tags == null)
            {
                await ErrorAsync(response, 400, "InvalidTag", "The TagValue you have provided is invalid");
                return;
            }
        }
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
        if (tags != null && answer.IsSuccessStatusCode) await PutTagsAsync(path, tags);
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

    /// <summary>
    /// PutObject's x-amz-tagging as AWS documents it: the tag set as URL query parameters ("k1=v1&amp;k2=v2"), at
    /// most 10 tags, no key twice, keys of 1 to 128 characters and values of up to 256; null (answered 400 InvalidTag,
    /// nothing written) otherwise. s3rver ignores the header but keeps what PutObjectTagging gives it and answers
    /// GetObjectTagging from that, so once s3rver has stored the object the proxy puts the set there.
    /// </summary>
    private static List<(string Key, string Value)>? TagSet(string header)
    {
        var tags = new List<(string Key, string Value)>();
        foreach (var pair in header.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            string Decode(string part) => Uri.UnescapeDataString(part.Replace('+', ' '));
            var (key, value) = eq < 0 ? (Decode(pair), "") : (Decode(pair[..eq]), Decode(pair[(eq + 1)..]));
            if (key.Length is 0 or > 128 || value.Length > 256 || tags.Any(t => t.Key == key)) return null;
            tags.Add((key, value));
        }
        return tags.Count <= 10 ? tags : null;
    }

    private async Task PutTagsAsync(string path, IReadOnlyList<(string Key, string Value)> tags)
    {
        var xml = new XElement("Tagging", new XElement("TagSet",
            tags.Select(t => new XElement("Tag", new XElement("Key", t.Key), new XElement("Value", t.Value))))).ToString(SaveOptions.DisableFormatting);
        using var answer = await SendSignedAsync(HttpMethod.Put, path, Encoding.UTF8.GetBytes(xml));
        answer.EnsureSuccessStatusCode();
    }

    /// <summary>An object's tags as S3 answers GetObjectTagging for it (here s3rver, from what the proxy put).</summary>
    /// <param name="bucketAndKey">bucket/key, as in the URL path.</param>
    public async Task<Dictionary<string, string>> TagsAsync(string bucketAndKey)
    {
        using var answer = await SendSignedAsync(HttpMethod.Get, bucketAndKey, []);
        answer.EnsureSuccessStatusCode();
        var xml = XDocument.Parse(await answer.Content.ReadAsStringAsync());
        return xml.Descendants().Where(e => e.Name.LocalName == "Tag").ToDictionary(
            t => t.Elements().Single(e => e.Name.LocalName == "Key").Value,
            t => t.Elements().SingleOrDefault(e => e.Name.LocalName == "Value")?.Value ?? "");
    }

    /// <summary>A request on an object's tagging subresource, signed with s3rver's keys.</summary>
    private async Task<HttpResponseMessage> SendSignedAsync(HttpMethod method, string bucketAndKey, byte[] body)
    {
        using var message = new HttpRequestMessage(method, new Uri(_s3.Endpoint, "/" + bucketAndKey + "?tagging"));
        if (method != HttpMethod.Get) message.Content = new ByteArrayContent(body);
        SigV4Signer.Sign(message, body, new AwsCredentials(S3rverFixture.AccessKey, S3rverFixture.SecretKey), S3rverFixture.Region, "s3", DateTimeOffset.UtcNow);
        return await _upstream.SendAsync(message);
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
