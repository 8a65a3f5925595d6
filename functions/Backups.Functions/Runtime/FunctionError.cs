namespace Backups.Functions.Runtime;

/// <summary>
/// The error document of the Runtime API (invocation error and init error). Step Functions sees
/// <see cref="ErrorType"/> as the error name a Catch matches and the whole document as the cause.
/// No stack trace: it would show the code's inner workings and could carry a secret from an exception's data.
/// </summary>
public sealed record FunctionError(string ErrorMessage, string ErrorType);

/// <summary>A failure a handler reports on purpose, under a stable name a workflow can Catch.</summary>
public sealed class FunctionFailure(string errorType, string message) : Exception(message)
{
    public string ErrorType { get; } = errorType;
}
