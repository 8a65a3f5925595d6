using Amazon.Runtime;
using Amazon.Runtime.Credentials;

namespace Backups.Aws;

/// <summary>
/// Where the clients get their region and credentials: by default AWSSDK.Core's chain (environment variables,
/// shared profile, container/Lambda credentials, EC2 instance role), so that this library authenticates exactly
/// where the official SDK clients would.
/// </summary>
public sealed class AwsCredentialSource
{
    private readonly AWSCredentials? _fixed;

    /// <param name="region">The region; when null: AWS_REGION, AWS_DEFAULT_REGION, then the SDK's lookup
    /// (shared config profile, EC2 instance metadata).</param>
    /// <param name="credentials">Credentials to use instead of the default chain (stand-ins, tests, assumed roles).</param>
    public AwsCredentialSource(string? region = null, AWSCredentials? credentials = null)
    {
        Region = ResolveRegion(region);
        _fixed = credentials;
    }

    public string Region { get; }

    /// <summary>Credentials to sign one request with. Asked for every request rather than kept: the SDK's
    /// providers cache them and refresh temporary ones before they expire.</summary>
    public async Task<AwsCredentials> GetCredentialsAsync(CancellationToken cancellationToken = default)
    {
        var source = _fixed ?? await DefaultAWSCredentialsIdentityResolver.GetCredentialsAsync(null).WaitAsync(cancellationToken);
        var resolved = await source.GetCredentialsAsync().WaitAsync(cancellationToken);
        return new AwsCredentials(resolved.AccessKey, resolved.SecretKey, resolved.UseToken ? resolved.Token : null);
    }

    private static string ResolveRegion(string? region)
    {
        // The SDK's own lookup reads AWS_REGION but not AWS_DEFAULT_REGION, which the AWS CLI and restic honour.
        foreach (var candidate in new[] { region, Environment.GetEnvironmentVariable("AWS_REGION"), Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION") })
        {
            if (!string.IsNullOrWhiteSpace(candidate)) return candidate.Trim();
        }
        return FallbackRegionFactory.GetRegionEndpoint()?.SystemName
            ?? throw new InvalidOperationException(
                "no AWS region: pass one explicitly or set AWS_REGION (or AWS_DEFAULT_REGION)");
    }
}
