using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Signing;
using Backups.Aws;

namespace Backups.Tests.Aws;

/// <summary>
/// AWSSDK.Core's own SigV4 signer, as the reference our signer must agree with: the public standalone facade
/// <see cref="AWSSigV4Signer"/> (AWSSDK.Core 4.0.102+), which builds the SDK's internal request and signs it with
/// the same <c>AWS4Signer</c> every AWSSDK service client uses.
/// </summary>
internal static class SdkSigner
{
    /// <param name="headers">The headers to sign besides host, x-amz-date, x-amz-content-sha256 and the
    /// session token, all of which the SDK adds itself.</param>
    /// <returns>The headers the SDK would add (Authorization, X-Amz-Date, X-Amz-Content-SHA256, and
    /// x-amz-security-token with a session token), case-insensitively.</returns>
    public static IReadOnlyDictionary<string, string> Sign(HttpMethod method, Uri uri, IEnumerable<KeyValuePair<string, string>> headers,
        byte[] body, AwsCredentials credentials, string region, string service, DateTimeOffset time)
    {
        var request = new AWSSigningRequest { HttpMethod = method, RequestUri = uri, Content = body };
        foreach (var (name, value) in headers) request.Headers[name] = value;
        var parameters = new AWSSigV4Parameters
        {
            Credentials = credentials.SessionToken is { } token
                ? new SessionAWSCredentials(credentials.AccessKeyId, credentials.SecretAccessKey, token)
                : new BasicAWSCredentials(credentials.AccessKeyId, credentials.SecretAccessKey),
            Region = RegionEndpoint.GetBySystemName(region),
            Service = service,
            SignedAt = time.UtcDateTime,
        };
        return new Dictionary<string, string>(AWSSigV4Signer.Sign(request, parameters).Headers, StringComparer.OrdinalIgnoreCase);
    }
}
