using Amazon.Runtime;
using Backups.Core.Backends;
using Backups.Core.Compression;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Settings;

/// <summary>
/// A repository and how to reach it: its location, password, CA certificate and compression. The agent's
/// commands, its nightly run and the functions all open their repository through here.
/// </summary>
public sealed record RepositorySettings(string Location, PasswordSource Password)
{
    /// <summary>A PEM file of the CA that signed an S3-compatible store's certificate (restic's --cacert).</summary>
    public string? CaCertFile { get; init; }

    public CompressionMode Compression { get; init; } = CompressionMode.Auto;

    /// <summary>S3 credentials; by default AWSSDK.Core's chain (environment, profile, instance role).</summary>
    public AWSCredentials? Credentials { get; init; }

    /// <summary>restic's --limit-upload and --limit-download.</summary>
    public BandwidthLimits Limits { get; init; } = BandwidthLimits.None;

    /// <summary>restic's -o options (s3.connections).</summary>
    public ExtendedOptions Options { get; init; } = ExtendedOptions.None;

    /// <summary>Nothing is written to the store or removed from it (backup --dry-run).</summary>
    public bool DryRun { get; init; }

    /// <param name="deadline">No store call is retried past it (a Lambda invocation's end).</param>
    public IBackend OpenBackend(DateTimeOffset? deadline = null)
    {
        var backend = RepositoryLocation.Open(Location, new BackendOptions(CaCertFile: CaCertFile, Credentials: Credentials, Deadline: deadline,
            Connections: Options.S3Connections));
        if (Limits.Any) backend = new RateLimitedBackend(backend, Limits, TimeProvider.System);
        return DryRun ? new DryRunBackend(backend) : backend;
    }

    /// <summary>Opens the repository.</summary>
    public Task<Repo> OpenAsync(CancellationToken ct, DateTimeOffset? deadline = null) => WithBackendAsync(Repo.OpenAsync, deadline, ct);

    /// <summary>Creates the repository (refused where one exists), opened.</summary>
    public Task<Repo> InitAsync(int version, CancellationToken ct) =>
        WithBackendAsync((backend, password, c) => Repo.InitAsync(backend, password, version, ct: c), null, ct);

    /// <summary>Opens the repository, created first if there is none (the embedded demo's).</summary>
    public Task<Repo> OpenOrInitAsync(CancellationToken ct) =>
        WithBackendAsync(async (backend, password, c) => await backend.StatAsync(FileHandle.Config, c) == null
            ? await Repo.InitAsync(backend, password, ct: c)
            : await Repo.OpenAsync(backend, password, c), null, ct);

    /// <summary>The password is obtained before the store is touched (a failing password command reaches no store);
    /// the backend is the repository's from then on, or closed when opening fails.</summary>
    private async Task<Repo> WithBackendAsync(Func<IBackend, string, CancellationToken, Task<Repo>> open, DateTimeOffset? deadline, CancellationToken ct)
    {
        var password = await Password.ReadAsync(ct);
        var backend = OpenBackend(deadline);
        try
        {
            var repo = await open(backend, password, ct);
            repo.Compression = Compression;
            return repo;
        }
        catch
        {
            await backend.DisposeAsync();
            throw;
        }
    }
}
