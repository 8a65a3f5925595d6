namespace Backups.Aws;

/// <summary>One set of signing credentials, as resolved at one moment (temporary ones expire).</summary>
public sealed class AwsCredentials
{
    public AwsCredentials(string accessKeyId, string secretAccessKey, string? sessionToken = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(accessKeyId);
        ArgumentException.ThrowIfNullOrEmpty(secretAccessKey);
        AccessKeyId = accessKeyId;
        SecretAccessKey = secretAccessKey;
        SessionToken = string.IsNullOrEmpty(sessionToken) ? null : sessionToken;
    }

    public string AccessKeyId { get; }

    public string SecretAccessKey { get; }

    public string? SessionToken { get; }

    /// <summary>Only the access key id (which is not secret), so that logging or interpolating credentials
    /// cannot leak the secret key or the session token.</summary>
    public override string ToString() => $"AwsCredentials({AccessKeyId})";
}
