namespace Backups.Core.Repositories;

/// <summary>
/// What went wrong, coarsely: the one taxonomy of failures. The agent turns each kind into its exit code
/// (ExitCodes.For), its error name for the workflow (TaskReporter.ErrorName), and the functions into theirs
/// (ErrorNames.For); a test walks every kind through all three.
/// </summary>
public enum ErrorKind
{
    /// <summary>Anything not named below: a bug, a local I/O error, a refusal we have no word for.</summary>
    Failure,
    /// <summary>A value given to the command or the function is wrong (a flag, an argument, a field of the input).</summary>
    InvalidArgument,
    /// <summary>The configuration is wrong or incomplete: a config file, an environment variable, a repository
    /// string, a secret that cannot be read.</summary>
    ConfigError,
    /// <summary>The password command (--password-command, RESTIC_PASSWORD_COMMAND) could not start, failed or printed nothing.</summary>
    PasswordCommandFailed,
    /// <summary>There is no repository at the location (no config file).</summary>
    RepositoryNotFound,
    /// <summary>Another process holds a conflicting lock, or our own lock was lost.</summary>
    Locked,
    /// <summary>No key file opens with the password.</summary>
    WrongPassword,
    /// <summary>init: a repository already exists there.</summary>
    AlreadyExists,
    /// <summary>A snapshot, or a path in one, is not there.</summary>
    NotFound,
    /// <summary>A repository file does not decrypt, hash or parse, or is missing where the index says it is.</summary>
    Damaged,
    /// <summary>A repository version or key derivation this program does not read.</summary>
    UnsupportedVersion,
    /// <summary>The storage cannot be reached, after retries.</summary>
    Unavailable,
    /// <summary>A source (its command, or one of the run's sources) failed: no snapshot of it was saved.</summary>
    SourceFailed,
    /// <summary>A restore drill failed one of its checks (reported as drill's outcome, not thrown).</summary>
    DrillFailed,
    /// <summary>A save found its name taken by other content (an append-only store refuses to overwrite).</summary>
    OverwriteRefused,
    /// <summary>Cancelled: Ctrl-C, SIGTERM, or a deadline.</summary>
    Interrupted,
    /// <summary>wal-fetch could not tell whether a file is in the WAL archive (the archiver, the storage or the
    /// repository failed): PostgreSQL must stop recovering, not take it for the end of the archive.</summary>
    ArchiveUnreadable,
}

/// <summary>An expected failure of a known kind, with a one-line message fit for a person (and never a secret in it).</summary>
public class ClassifiedException(ErrorKind kind, string message, Exception? inner = null) : Exception(message, inner)
{
    public ErrorKind Kind { get; } = kind;
}

/// <summary>A failure of the repository or of an operation on it.</summary>
public sealed class RepositoryException(ErrorKind kind, string message, Exception? inner = null) : ClassifiedException(kind, message, inner);

public static class Failures
{
    /// <summary>The kind of any exception: the one place a failure is classified, for exit codes and error names alike.</summary>
    public static ErrorKind KindOf(Exception e) => Cause(e) switch
    {
        OperationCanceledException => ErrorKind.Interrupted,
        ClassifiedException c => c.Kind,
        _ => ErrorKind.Failure,
    };

    /// <summary>Each kind's name in error names (the workflow's Catch, the functions' errors, the failure email): the one
    /// table; the agent and the functions put their prefix before it.</summary>
    public static string Name(ErrorKind kind) => kind switch
    {
        ErrorKind.Failure => "Error",
        ErrorKind.InvalidArgument => "InvalidArgument",
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
        ErrorKind.ArchiveUnreadable => "ArchiveUnreadable",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "a kind without an error name"),
    };

    /// <summary>The failure that explains <paramref name="e"/>: an I/O error's cause (the pipelines wrap what
    /// went wrong inside them), the first of several.</summary>
    public static Exception Cause(Exception e) => e switch
    {
        IOException { InnerException: { } inner } => Cause(inner),
        AggregateException { InnerExceptions.Count: > 0 } all => Cause(all.InnerExceptions[0]),
        _ => e,
    };
}
