namespace Backups.Core.Repository;

/// <summary>What went wrong, coarsely: the CLI turns each kind into its own exit code.</summary>
public enum ErrorKind
{
    RepositoryNotFound,
    WrongPassword,
    AlreadyExists,
    NotFound,
    Damaged,
    UnsupportedVersion,
    Locked,
    Unavailable,
    SourceFailed,
    InvalidArgument,
    /// <summary>A save found its name taken by other content (an append-only store refuses to overwrite).</summary>
    OverwriteRefused,
}

/// <summary>An expected failure with a one-line message fit for a person (and never a secret in it).</summary>
public sealed class RepositoryException(ErrorKind kind, string message, Exception? inner = null) : Exception(message, inner)
{
    public ErrorKind Kind { get; } = kind;
}
