namespace Backups.Functions.Runtime;

/// <summary>
/// One invocation as the Runtime API describes it (what Amazon.Lambda.Core's ILambdaContext carries), plus the
/// token the host cancels a safety margin before the deadline.
/// </summary>
public sealed class InvocationContext
{
    public required string RequestId { get; init; }

    /// <summary>When Lambda stops the function (Lambda-Runtime-Deadline-Ms).</summary>
    public required DateTimeOffset Deadline { get; init; }

    public string? InvokedFunctionArn { get; init; }

    /// <summary>The X-Ray trace header; the host also puts it in _X_AMZN_TRACE_ID, where the AWS SDKs look.</summary>
    public string? TraceId { get; init; }

    /// <summary>Cancelled when the host gives up on the invocation to report an error before Lambda kills it.</summary>
    public CancellationToken CancellationToken { get; init; }

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    public TimeSpan RemainingTime => Deadline - TimeProvider.GetUtcNow();
}
