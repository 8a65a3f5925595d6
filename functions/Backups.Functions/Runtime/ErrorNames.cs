using Backups.Aws;
using Backups.Aws.Secrets;
using Backups.Core.Backends;
using Backups.Core.Repository;

namespace Backups.Functions.Runtime;

/// <summary>
/// The error names the functions report (errorType, and so the Step Functions error name): "Backups." and a
/// kind, the same words the agent uses after "BackupAgent.".
/// </summary>
public static class ErrorNames
{
    public const string Prefix = "Backups.";
    public const string InvalidInput = Prefix + "InvalidInput";
    public const string ConfigError = Prefix + "ConfigError";
    public const string DeadlineExceeded = Prefix + "DeadlineExceeded";
    public const string UnknownHandler = Prefix + "UnknownHandler";

    public static string Of(Exception e) => e switch
    {
        FunctionFailure f => f.ErrorType,
        InvalidInputException => InvalidInput,
        SecretException or ConfigurationException or RepositoryLocationException => ConfigError,
        RepositoryException r => Prefix + r.Kind,
        BackendUnavailableException => Prefix + "Unavailable",
        AwsServiceException a => Prefix + "Aws." + a.ErrorCode,
        _ => Prefix + e.GetType().Name.Replace("Exception", "", StringComparison.Ordinal),
    };
}

/// <summary>The invocation's input does not fit the function's contract; the message names the field.</summary>
public sealed class InvalidInputException(string message) : Exception(message);

/// <summary>The function's environment (variables, parameters) is incomplete or wrong.</summary>
public sealed class ConfigurationException(string message) : Exception(message);
