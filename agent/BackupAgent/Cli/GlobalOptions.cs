using Backups.Core.Backends;
using Backups.Core.Compression;
using Backups.Core.Locks;
using Backups.Core.Repository;

namespace BackupAgent.Cli;

/// <summary>The repository, its password and how to reach it, as restic takes them (flags, then its env variables).</summary>
public sealed class GlobalOptions(Arguments args, IReadOnlyDictionary<string, string> env)
{
    public bool Json => args.Has("json");
    public bool Quiet => args.Has("quiet");

    public string Repository =>
        args.Value("repo") ?? env.GetValueOrDefault("RESTIC_REPOSITORY")
        ?? throw new UsageException("no repository given: use -r/--repo or set RESTIC_REPOSITORY");

    public string Password()
    {
        var file = args.Value("password-file") ?? env.GetValueOrDefault("RESTIC_PASSWORD_FILE");
        if (file != null)
        {
            try
            {
                // restic strips the trailing newline that editors and `echo` leave behind.
                return File.ReadAllText(file).TrimEnd('\r', '\n');
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new UsageException($"cannot read the password file {file}: {e.Message}");
            }
        }
        return env.GetValueOrDefault("RESTIC_PASSWORD")
               ?? throw new UsageException("no password given: use --password-file, RESTIC_PASSWORD_FILE or RESTIC_PASSWORD");
    }

    public CompressionMode Compression => (args.Value("compression") ?? env.GetValueOrDefault("RESTIC_COMPRESSION") ?? "auto") switch
    {
        "auto" => CompressionMode.Auto,
        "off" => CompressionMode.Off,
        "max" => CompressionMode.Max,
        var other => throw new UsageException($"--compression must be auto, off or max, not '{other}'"),
    };

    /// <summary>A read-only command's non-exclusive lock, as restic takes it; none with --no-lock (as restic's, for a
    /// repository this user cannot write to, at the risk of a prune deleting packs under the read).</summary>
    public async Task<RepositoryLock?> ReadLockAsync(Repository repo, CancellationToken ct) =>
        args.Has("no-lock") ? null : await RepositoryLock.AcquireAsync(repo, exclusive: false, ct);

    public IBackend OpenBackend() => RepositoryLocation.Open(Repository, new BackendOptions(CaCertFile: args.Value("cacert")));

    public async Task<Repository> OpenRepositoryAsync(CancellationToken ct)
    {
        var backend = OpenBackend();
        try
        {
            var repo = await Backups.Core.Repository.Repository.OpenAsync(backend, Password(), ct);
            repo.Compression = Compression;
            return repo;
        }
        catch
        {
            await backend.DisposeAsync();
            throw;
        }
    }

    public static readonly Dictionary<string, string?> ValueFlags = new()
    {
        ["repo"] = "r", ["password-file"] = "p", ["cacert"] = null, ["compression"] = null,
    };

    public static readonly Dictionary<string, string?> SwitchFlags = new() { ["json"] = null, ["quiet"] = "q", ["help"] = "h", ["no-lock"] = null };
}
