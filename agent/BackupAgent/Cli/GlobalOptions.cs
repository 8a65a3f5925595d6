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
    public RepositorySettings Settings => _settings ??= ResticEnvironment.Read(env, new RepositoryFlags(
        Repository: args.Value("repo"), PasswordFile: args.Value("password-file"), PasswordCommand: args.Value("password-command"),
        CaCert: args.Value("cacert"), Compression: args.Value("compression")));

    /// <summary>The password (obtained once: a password command runs once).</summary>
    public Task<string> PasswordAsync(CancellationToken ct) => Settings.Password.ReadAsync(ct);

    /// <summary>A read-only command's non-exclusive lock, as restic takes it; none with --no-lock (as restic's, for a
    /// repository this user cannot write to, at the risk of a prune deleting packs under the read).</summary>
    public async Task<RepositoryLock?> ReadLockAsync(Repository repo, CancellationToken ct) =>
        args.Has("no-lock") ? null : await RepositoryLock.AcquireAsync(repo, exclusive: false, ct);

    public Task<Repository> OpenRepositoryAsync(CancellationToken ct) => Settings.OpenAsync(ct);

    public static readonly Dictionary<string, string?> ValueFlags = new()
    {
        ["repo"] = "r", ["password-file"] = "p", ["password-command"] = null, ["cacert"] = null, ["compression"] = null,
    };

    public static readonly Dictionary<string, string?> SwitchFlags = new() { ["json"] = null, ["quiet"] = "q", ["help"] = "h", ["no-lock"] = null };
}
