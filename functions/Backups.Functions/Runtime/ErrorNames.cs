using Backups.Core.Repositories;

namespace Backups.Functions.Runtime;

/// <summary>
/// The error names the functions report (errorType, and so the Step Functions error name): "Backups." and a
/// failure's kind (the agent reports the same kinds after "BackupAgent."), or a name a handler chose on purpose.
/// </summary>
public static class ErrorNames
{
    public const string Prefix = "Backups.";
    public const string DeadlineExceeded = Prefix + "DeadlineExceeded";
    public const string UnknownHandler = Prefix + "UnknownHandler";

    public static string Of(Exception e) => e is FunctionFailure f ? f.ErrorType : For(Failures.KindOf(e));

    /// <summary>The error name of each kind of failure.</summary>
    public static string For(ErrorKind kind) => Prefix + kind switch
    {
        // A function's arguments are its input.
        ErrorKind.InvalidArgument => "InvalidInput",
        _ => Failures.Name(kind),
    };
}

/// <summary>The invocation's input does not fit the function's contract; the message names the field.</summary>
public sealed class InvalidInputException(string message) : ClassifiedException(ErrorKind.InvalidArgument, message);

/// <summary>The function's environment (variables, parameters) is incomplete or wrong.</summary>
public sealed class ConfigurationException(string message) : ClassifiedException(ErrorKind.ConfigError, message);
