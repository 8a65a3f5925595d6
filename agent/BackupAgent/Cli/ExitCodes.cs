using Backups.Core.Repositories;

namespace BackupAgent.Cli;

/// <summary>Exit codes (documented in README). restic's own codes are kept where it has them.</summary>
public static class ExitCodes
{
    public const int Ok = 0, Failure = 1, Usage = 2, Incomplete = 3, RepositoryNotFound = 10, Locked = 11, WrongPassword = 12,
        AlreadyExists = 13, NotFound = 14, Damaged = 15, UnsupportedVersion = 16, Unavailable = 17, SourceFailed = 18, DrillFailed = 19,
        OverwriteRefused = 20, PasswordCommandFailed = 21, Interrupted = 130;

    /// <summary>The exit code of each kind of failure: the one table.</summary>
    public static int For(ErrorKind kind) => kind switch
    {
        ErrorKind.Failure => Failure,
        ErrorKind.InvalidArgument or ErrorKind.ConfigError => Usage,
        ErrorKind.PasswordCommandFailed => PasswordCommandFailed,
        ErrorKind.RepositoryNotFound => RepositoryNotFound,
        ErrorKind.Locked => Locked,
        ErrorKind.WrongPassword => WrongPassword,
        ErrorKind.AlreadyExists => AlreadyExists,
        ErrorKind.NotFound => NotFound,
        ErrorKind.Damaged => Damaged,
        ErrorKind.UnsupportedVersion => UnsupportedVersion,
        ErrorKind.Unavailable => Unavailable,
        ErrorKind.SourceFailed => SourceFailed,
        ErrorKind.DrillFailed => DrillFailed,
        ErrorKind.OverwriteRefused => OverwriteRefused,
        ErrorKind.Interrupted => Interrupted,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "a kind without an exit code"),
    };
}

/// <summary>A mistake in the command line.</summary>
public sealed class UsageException(string message) : ClassifiedException(ErrorKind.InvalidArgument, message)
{
    public static UsageException UnknownFlag(string flag) => new($"unknown flag '{flag}'");
}
