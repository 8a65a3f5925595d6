using Backups.Core.Repository;

namespace BackupAgent.Cli;

/// <summary>Exit codes by kind of failure (documented in README). restic's own codes are kept where it has them.</summary>
public static class ExitCodes
{
    public const int Ok = 0, Failure = 1, Usage = 2, Incomplete = 3, RepositoryNotFound = 10, Locked = 11, WrongPassword = 12,
        AlreadyExists = 13, NotFound = 14, Damaged = 15, UnsupportedVersion = 16, Unavailable = 17, SourceFailed = 18, DrillFailed = 19, OverwriteRefused = 20, Interrupted = 130;

    public static int For(ErrorKind kind) => kind switch
    {
        ErrorKind.RepositoryNotFound => RepositoryNotFound,
        ErrorKind.WrongPassword => WrongPassword,
        ErrorKind.AlreadyExists => AlreadyExists,
        ErrorKind.NotFound => NotFound,
        ErrorKind.Damaged => Damaged,
        ErrorKind.UnsupportedVersion => UnsupportedVersion,
        ErrorKind.Locked => Locked,
        ErrorKind.Unavailable => Unavailable,
        ErrorKind.SourceFailed => SourceFailed,
        ErrorKind.InvalidArgument => Usage,
        ErrorKind.OverwriteRefused => OverwriteRefused,
        _ => Failure,
    };
}

/// <summary>A mistake in the command line.</summary>
public sealed class UsageException(string message) : Exception(message)
{
    public static UsageException UnknownFlag(string flag) => new($"unknown flag '{flag}'");
}
