using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Backups.Aws;

/// <summary>
/// AWS Signature Version 4 in the Authorization header
/// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html).
/// Deterministic, so that tests can reproduce a signature: the time is a parameter, and nothing is read from the
/// clock, the network or the environment.
/// </summary>
public static class SigV4Signer
{
    public const string Algorithm = "AWS4-HMAC-SHA256";

    /// <summary>
    /// Adds X-Amz-Date, X-Amz-Content-Sha256 (unless told not to), X-Amz-Security-Token (with a session token),
    /// Host and Authorization to <paramref name="request"/>. Signed are Host, Content-Type and every X-Amz-* header;
    /// headers that HttpClient or proxies may add or rewrite (User-Agent, Content-Length, ...) are not.
    /// </summary>
    /// <param name="body">Exactly the bytes that will be sent as the request's content.</param>
    /// <param name="addContentHashHeader">The AWS SDKs send the body hash as a header to every service (S3
    /// requires it); AWS's published SigV4 test suite does not.</param>
    /// <remarks>Paths are canonicalized as every service but S3 expects: the path as sent, URI-encoded once more.</remarks>
    public static void Sign(HttpRequestMessage request, ReadOnlySpan<byte> body, AwsCredentials credentials,
        string region, string service, DateTimeOffset signingTime, bool addContentHashHeader = true)
    {
        var uri = request.RequestUri is { IsAbsoluteUri: true } u
            ? u : throw new ArgumentException("the request needs an absolute URI", nameof(request));
        var amzDate = signingTime.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var scope = $"{amzDate[..8]}/{region}/{service}/aws4_request";
        var payloadHash = Convert.ToHexStringLower(SHA256.HashData(body));

        // Sent exactly as signed, whatever HttpClient would derive from the URI.
        request.Headers.Host ??= uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}";
        Replace(request, "X-Amz-Date", amzDate);
        if (addContentHashHeader) Replace(request, "X-Amz-Content-Sha256", payloadHash);
        if (credentials.SessionToken is { } token) Replace(request, "X-Amz-Security-Token", token);
        request.Headers.Remove("Authorization");

        var headers = CanonicalHeaders(request);
        var signedHeaders = string.Join(';', headers.Keys);
        var canonicalRequest = new StringBuilder()
            .Append(request.Method.Method).Append('\n')
            .Append(Encode(uri.AbsolutePath, keepSlashes: true)).Append('\n')
            .Append(CanonicalQuery(uri.Query)).Append('\n');
        foreach (var (name, value) in headers) canonicalRequest.Append(name).Append(':').Append(value).Append('\n');
        canonicalRequest.Append('\n').Append(signedHeaders).Append('\n').Append(payloadHash);

        var stringToSign = $"{Algorithm}\n{amzDate}\n{scope}\n{Sha256Hex(canonicalRequest.ToString())}";
        var key = Hmac(Encoding.UTF8.GetBytes("AWS4" + credentials.SecretAccessKey), amzDate[..8]);
        foreach (var part in new[] { region, service, "aws4_request" }) key = Hmac(key, part);
        var signature = Convert.ToHexStringLower(Hmac(key, stringToSign));

        request.Headers.TryAddWithoutValidation("Authorization",
            $"{Algorithm} Credential={credentials.AccessKeyId}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}");
    }

    private static void Replace(HttpRequestMessage request, string name, string value)
    {
        request.Headers.Remove(name);
        request.Headers.TryAddWithoutValidation(name, value);
    }

    /// <summary>Lower-case name to value trimmed, inner runs of spaces collapsed, repeated headers joined by commas.</summary>
    private static SortedDictionary<string, string> CanonicalHeaders(HttpRequestMessage request)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var all = request.Headers.NonValidated.AsEnumerable();
        if (request.Content != null) all = all.Concat(request.Content.Headers.NonValidated);
        foreach (var (name, values) in all)
        {
            var lower = name.ToLowerInvariant();
            if (lower is not ("host" or "content-type") && !lower.StartsWith("x-amz-", StringComparison.Ordinal)) continue;
            var value = string.Join(',', values.Select(v => string.Join(' ', v.Split(' ', StringSplitOptions.RemoveEmptyEntries))));
            result[lower] = result.TryGetValue(lower, out var earlier) ? $"{earlier},{value}" : value;
        }
        return result;
    }

    /// <summary>Parameters decoded as a server decodes them ('+' is a space), re-encoded, sorted by encoded name
    /// then value.</summary>
    internal static string CanonicalQuery(string query)
    {
        var pairs = new List<(string Name, string Value)>();
        foreach (var part in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=');
            var name = eq < 0 ? part : part[..eq];
            var value = eq < 0 ? "" : part[(eq + 1)..];
            pairs.Add((EncodeQueryComponent(name), EncodeQueryComponent(value)));
        }
        pairs.Sort((a, b) => a.Name != b.Name
            ? string.CompareOrdinal(a.Name, b.Name)
            : string.CompareOrdinal(a.Value, b.Value));
        return string.Join('&', pairs.Select(p => $"{p.Name}={p.Value}"));
    }

    private static string EncodeQueryComponent(string raw) =>
        Encode(Uri.UnescapeDataString(raw.Replace('+', ' ')), keepSlashes: false);

    /// <summary>RFC 3986 encoding as SigV4 defines it: everything but A-Z a-z 0-9 - _ . ~ as %XX of its UTF-8 bytes.</summary>
    private static string Encode(string value, bool keepSlashes)
    {
        var result = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~' || (keepSlashes && c == '/'))
                result.Append(c);
            else
                result.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
        return result.ToString();
    }

    private static string Sha256Hex(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));
}
