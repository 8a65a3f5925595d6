using Backups.Core.Backends;
using Backups.Core.Locks;
using Backups.Core.Repositories;
using Backups.Core.Settings;

namespace BackupAgent.Cli;

/// <summary>The repository, its password and how to reach it, as restic takes them (flags, then its env variables).</summary>
public sealed class GlobalOptions(Arguments args, IReadOnlyDictionary<string, string> env)
{
    private RepositorySettings? _settings;

    public bool Json => args.Has("json");
    public bool Quiet => args.Has("quiet");

    /// <summary>Read when a command first needs the repository (`run --config` never does).</summary>
    public RepositorySettings Settings => _settings ??= ResticEnvironment.Read(env, Given,
        PasswordGiven ? null : new PromptedPassword(Console.Error)) with { Limits = Limits() };

    private RepositoryFlags Given => new(
        Repository: args.Value("repo"), PasswordFile: args.Value("password-file"), PasswordCommand: args.Value("password-command"),
        CaCert: args.Value("cacert"), Compression: args.Value("compression"), Options: args.Values("option"));

    /// <summary>Whether a password flag or variable is there (an empty RESTIC_PASSWORD counts: it is refused as
    /// empty); without one the password is asked for, as restic asks.</summary>
    public bool PasswordGiven => env.ContainsKey(ResticEnvironment.Password) || ResticEnvironment.PasswordFrom(env, Given) != null;

    private BandwidthLimits Limits() => new(KiBPerSecond("limit-upload"), KiBPerSecond("limit-download"));

    private int? KiBPerSecond(string flag) => args.Value(flag) is not { } text ? null
        : int.TryParse(text, out var n) && n >= 0 ? n : throw new UsageException($"--{flag} needs a whole number of KiB/s (0 for no limit), not '{text}'");

    /// <summary>The password (obtained once: a password command runs once).</summary>
    public Task<string> PasswordAsync(CancellationToken ct) => Settings.Password.ReadAsync(ct);

    /// <summary>A read-only command's non-exclusive lock, as restic takes it; none with --no-lock (as restic's, for a
    /// repository this user cannot write to, at the risk of a prune deleting packs under the read).</summary>
    public async Task<RepositoryLock?> ReadLockAsync(Repository repo, CancellationToken ct) =>
        await await BeginReadLockAsync(repo, ct);

    /// <summary><see cref="ReadLockAsync"/> once its file is written, with its settling look still to come
    /// (<see cref="RepositoryLock.BeginAsync"/>).</summary>
    public async Task<Task<RepositoryLock?>> BeginReadLockAsync(Repository repo, CancellationToken ct)
    {
        if (args.Has("no-lock")) return Task.FromResult<RepositoryLock?>(null);
        var settling = await RepositoryLock.BeginAsync(repo, exclusive: false, ct);
        return Settled(settling);

        static async Task<RepositoryLock?> Settled(Task<RepositoryLock> settling) => await settling;
    }

    /// <param name="dryRun">Nothing is written to the store (backup --dry-run).</param>
    public Task<Repository> OpenRepositoryAsync(CancellationToken ct, bool dryRun = false) =>
        (dryRun ? Settings with { DryRun = true } : Settings).OpenAsync(ct);

    /// <summary>The flags every command takes.</summary>
    public static readonly IReadOnlyList<Flag> Flags =
    [
        Flag.Valued("repo", "REPOSITORY", $"repository to use (default: ${ResticEnvironment.Repository})", "r"),
        Flag.Valued("password-file", "FILE", $"read the repository password from FILE (default: ${ResticEnvironment.PasswordFile})", "p"),
        Flag.Valued("password-command", "COMMAND", $"run COMMAND for the password (default: ${ResticEnvironment.PasswordCommand})"),
        Flag.Valued("cacert", "FILE", $"trust the certificate in FILE for HTTPS stores (default: ${ResticEnvironment.CaCert})"),
        Flag.Valued("compression", "MODE", $"auto, off or max (default: ${ResticEnvironment.Compression}, else auto)"),
        Flag.Valued("option", "KEY=VALUE", $"set an extended option, repeatable: {ExtendedOptions.S3ConnectionsKey}=N requests to S3 at once (default: {S3Backend.DefaultConnections})", "o"),
        Flag.Valued("limit-upload", "KiB/s", "limit uploads to the store to this rate (default: unlimited)"),
        Flag.Valued("limit-download", "KiB/s", "limit downloads from the store to this rate (default: unlimited)"),
        Flag.Switch("json", "print results as JSON (and run's log as JSON lines even on a terminal)"),
        Flag.Switch("quiet", "print nothing but errors", "q"),
        Flag.Switch("no-lock", "read without locking the repository (risky: a prune may delete what is read)"),
        Flag.Switch("help", "show this help and do nothing else", "h"),
    ];
}
