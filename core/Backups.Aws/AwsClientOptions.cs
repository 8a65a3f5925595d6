namespace Backups.Aws;

/// <summary>What every client of this library needs: credentials and region, and where and how to send.</summary>
public sealed record AwsClientOptions
{
    public required AwsCredentialSource Credentials { get; init; }

    /// <summary>An endpoint instead of the service's regional one (a local stand-in, a VPC endpoint), like
    /// AWSSDK's <c>ClientConfig.ServiceURL</c>.</summary>
    public Uri? ServiceUrl { get; init; }

    public AwsRetrySettings Retry { get; init; } = AwsRetrySettings.Default;

    /// <summary>The clock requests are signed with and retries wait on.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>An HttpClient of the caller's (not disposed here); by default one shared by all clients.</summary>
    public HttpClient? HttpClient { get; init; }
}

/// <summary>Attempts for a call that fails with 5xx, throttling or a broken connection, and the waits between them.</summary>
public sealed record AwsRetrySettings(int MaxAttempts, TimeSpan FirstDelay, TimeSpan MaxDelay)
{
    public static readonly AwsRetrySettings Default = new(
        MaxAttempts: 5, FirstDelay: TimeSpan.FromMilliseconds(200), MaxDelay: TimeSpan.FromSeconds(10));

    /// <summary>"Full jitter" (random between zero and the exponential bound): clients throttled together
    /// come back spread out rather than together.</summary>
    public TimeSpan DelayAfter(int attempt)
    {
        var bound = Math.Min(MaxDelay.TotalMilliseconds, FirstDelay.TotalMilliseconds * Math.Pow(2, attempt - 1));
        return TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * bound);
    }
}
