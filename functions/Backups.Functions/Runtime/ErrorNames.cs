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

    /// <summary>The error name of each kind of failure: the one table.</summary>
    public static string For(ErrorKind kind) => Prefix + kind switch
    {
        ErrorKind.Failure => "Error",
        // A function's arguments are its input.
        ErrorKind.InvalidArgument => "InvalidInput",
        ErrorKind.ConfigError => "ConfigError",
        ErrorKind.PasswordCommandFailed => "PasswordCommandFailed",
        ErrorKind.RepositoryNotFound => "RepositoryNotFound",
        ErrorKind.Locked => "Locked",
        ErrorKind.WrongPassword => "WrongPassword",
        ErrorKind.AlreadyExists => "AlreadyExists",
        ErrorKind.NotFound => "NotFound",
        ErrorKind.Damaged => "RepositoryDamaged",
        ErrorKind.UnsupportedVersion => "UnsupportedVersion",
        ErrorKind.Unavailable => "Unavailable",
        ErrorKind.SourceFailed => "SourceFailed",
        ErrorKind.DrillFailed => "DrillFailed",
        ErrorKind.OverwriteRefused => "OverwriteRefused",
        ErrorKind.Interrupted => "Interrupted",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "a kind without a function error name"),
    };
}

/// <summary>The invocation's input does not fit the function's contract; the message names the field.</summary>
public sealed class InvalidInputException(string message) : ClassifiedException(ErrorKind.InvalidArgument, message);

/// <summary>The function's environment (variables, parameters) is incomplete or wrong.</summary>
public sealed class ConfigurationException(string message) : ClassifiedException(ErrorKind.ConfigError, message);
