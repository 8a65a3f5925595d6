using Backups.Aws.Secrets;
using Backups.Core.Backends;
using Backups.Functions.Runtime;
using Repo = Backups.Core.Repository.Repository;

namespace Backups.Functions.Repositories;

/// <summary>
/// The repository a function works on, configured as restic is: RESTIC_REPOSITORY, and the password from exactly
/// one of RESTIC_PASSWORD_SSM_PARAMETER (an SSM SecureString's name, read with the function's role),
/// RESTIC_PASSWORD_FILE or RESTIC_PASSWORD; RESTIC_CACERT for an S3-compatible store with its own CA.
/// </summary>
public sealed class RepositoryAccess
{
    public const string RepositoryVariable = "RESTIC_REPOSITORY", PasswordSsmVariable = "RESTIC_PASSWORD_SSM_PARAMETER",
        PasswordFileVariable = "RESTIC_PASSWORD_FILE", PasswordVariable = "RESTIC_PASSWORD", CaCertVariable = "RESTIC_CACERT";

    private readonly FunctionEnvironment _environment;
    private readonly string _repository;
    private readonly SecretRef _password;
    private string? _resolvedPassword;

    public RepositoryAccess(FunctionEnvironment environment)
    {
        _environment = environment;
        _repository = environment.Required(RepositoryVariable);
        _password = new SecretRef
        {
            Ssm = environment.Optional(PasswordSsmVariable),
            File = environment.Optional(PasswordFileVariable),
            Env = environment.Optional(PasswordVariable) != null ? PasswordVariable : null,
        };
        if (_password.Problem != null)
            throw new ConfigurationException($"set exactly one of {PasswordSsmVariable}, {PasswordFileVariable}, {PasswordVariable}");
    }

    // The store's retries end this long before the invocation's deadline, so that a store still out of reach is
    // reported as unavailable rather than as a timed-out function.
    private static readonly TimeSpan RetryMargin = TimeSpan.FromSeconds(10);

    /// <summary>Opens the repository for one invocation: no store call retries past its deadline, nor longer than
    /// <paramref name="atMost"/> from now when given (for work that matters less than what comes after it).</summary>
    public async Task<Repo> OpenAsync(InvocationContext context, TimeSpan? atMost = null)
    {
        var deadline = context.Deadline - RetryMargin;
        if (atMost is { } most && context.TimeProvider.GetUtcNow() + most < deadline) deadline = context.TimeProvider.GetUtcNow() + most;
        var ct = context.CancellationToken;
        // Kept for the execution environment's life (one SSM call per cold start); a failed lookup is tried again.
        var password = _resolvedPassword ??= await _environment.Secrets.ResolveAsync(_password, ct);
        var backend = RepositoryLocation.Open(_repository, new BackendOptions(CaCertFile: _environment.Optional(CaCertVariable), Deadline: deadline));
        try
        {
            return await Repo.OpenAsync(backend, password, ct);
        }
        catch
        {
            await backend.DisposeAsync();
            throw;
        }
    }

    public async Task<SourceHistory> LoadHistoryAsync(InvocationContext context, TimeSpan? atMost = null)
    {
        await using var repo = await OpenAsync(context, atMost);
        return new SourceHistory(await repo.LoadSnapshotsAsync(context.CancellationToken));
    }
}
