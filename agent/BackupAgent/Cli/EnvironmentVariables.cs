using BackupAgent.Run;
using Backups.Core.Backends;
using Backups.Core.Locks;
using Backups.Core.Settings;

namespace BackupAgent.Cli;

/// <summary>The environment variables the program reads, as help and the man page list them.</summary>
public static class EnvironmentVariables
{
    public static readonly IReadOnlyList<(string Name, string Meaning)> All =
    [
        (ResticEnvironment.Repository, "the repository (as -r)"),
        (ResticEnvironment.Password, "the repository password"),
        (ResticEnvironment.PasswordFile, "a file holding the password (as --password-file)"),
        (ResticEnvironment.PasswordCommand, "a command that prints the password (as --password-command)"),
        (ResticEnvironment.CaCert, "a certificate to trust for an HTTPS store (as --cacert)"),
        (ResticEnvironment.Compression, "auto, off or max (as --compression)"),
        ("AWS_ACCESS_KEY_ID", "S3 access key (else the shared profile or the instance role)"),
        ("AWS_SECRET_ACCESS_KEY", "S3 secret key"),
        ("AWS_SESSION_TOKEN", "S3 session token of temporary credentials"),
        ("AWS_PROFILE", "the profile of ~/.aws/credentials to use"),
        ("AWS_DEFAULT_REGION", "the store's region (also AWS_REGION; default us-east-1)"),
        ("AWS_ENDPOINT_URL", "another endpoint for AWS services (also _SSM, _SFN for one service)"),
        (TaskReporter.TokenVariable, "run, drill: the Step Functions task token to report to"),
        (TaskReporter.TokenParameterVariable, "run, drill: an SSM parameter holding that token"),
        (RetrySettings.BudgetVariable, "how long to retry an unreachable store, in seconds (default 900)"),
        (RepositoryLock.StaleVariable, "age in seconds after which a lock is stale (default 1800)"),
        (RepositoryLock.RefreshVariable, "how often a held lock is refreshed, in seconds (default 300)"),
    ];
}
