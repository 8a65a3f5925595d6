namespace Backups.Aws;

/// <summary>An error answer from an AWS service, e.g. Step Functions' TaskTimedOut or SES's MessageRejected.</summary>
/// <param name="errorCode">The service's error name without namespace, as AWSSDK's <c>ErrorCode</c> gives it.</param>
public sealed class AwsServiceException(string errorCode, string message, int status)
    : Exception($"{errorCode} (HTTP {status}): {message}")
{
    public string ErrorCode { get; } = errorCode;

    /// <summary>The service's own message, without code and status.</summary>
    public string ServiceMessage { get; } = message;

    public int StatusCode { get; } = status;
}
