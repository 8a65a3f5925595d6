using Backups.Core.Repositories;

namespace BackupAgent.Cli;

/// <summary>Exit codes. restic's own codes are kept where it has them.</summary>
public static class ExitCodes
{
    public const int Ok = 0, Failure = 1, Usage = 2, Incomplete = 3, RepositoryNotFound = 10, Locked = 11, WrongPassword = 12,
        AlreadyExists = 13, NotFound = 14, Damaged = 15, UnsupportedVersion = 16, Unavailable = 17, SourceFailed = 18, DrillFailed = 19,
        OverwriteRefused = 20, PasswordCommandFailed = 21, ArchiveUnreadable = 126, Interrupted = 130;

    /// <summary>What each code means, as help and the man page print it and README's table says it (a test keeps
    /// README's table equal to this one; backquotes mark code there).</summary>
    public static readonly IReadOnlyList<(int Code, string Meaning)> Meanings =
    [
        (Ok, "success"),
        (Failure, "another error"),
        (Usage, "wrong usage (unknown flag, missing argument, malformed repository string)"),
        (Incomplete, "backup saved, but some files could not be read (as restic)"),
        (RepositoryNotFound, "no repository at that location"),
        (Locked, "the repository is locked by another process"),
        (WrongPassword, "wrong password"),
        (AlreadyExists, "`init`: a repository already exists there"),
        (NotFound, "snapshot or file not found"),
        (Damaged, "the repository is damaged (a file does not decrypt, hash or parse)"),
        (UnsupportedVersion, "unsupported repository version"),
        (Unavailable, "the storage cannot be reached (after retries)"),
        (SourceFailed, "the source command failed"),
        (DrillFailed, "`drill`: a restore drill failed a check"),
        (OverwriteRefused, "the store already holds a file of that name with other content: refused to overwrite it (append-only)"),
        (PasswordCommandFailed, "the password command (`--password-command`, `RESTIC_PASSWORD_COMMAND`) could not start, failed or printed nothing"),
        (ArchiveUnreadable, "`wal-fetch`: the WAL archive could not be read (archiver, storage or repository failed): above 125, so PostgreSQL stops recovery instead of ending it there"),
        (Interrupted, "interrupted"),
    ];

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
        ErrorKind.ArchiveUnreadable => ArchiveUnreadable,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "a kind without an exit code"),
    };
}

/// <summary>A mistake in the command line.</summary>
public sealed class UsageException(string message) : ClassifiedException(ErrorKind.InvalidArgument, message)
{
    public static UsageException UnknownFlag(string flag) => new($"unknown flag '{flag}'");
}
