using Backups.Aws.Secrets;
using Backups.Core.Settings;
using Backups.Functions.Runtime;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Functions.Repositories;

/// <summary>
/// The repository a function works on, configured as restic is (<see cref="ResticEnvironment"/>: RESTIC_REPOSITORY,
/// the password from RESTIC_PASSWORD_COMMAND, RESTIC_PASSWORD_FILE or RESTIC_PASSWORD, RESTIC_CACERT), or with the
/// password in an SSM SecureString named by RESTIC_PASSWORD_SSM_PARAMETER (read with the function's role) instead.
/// The offsite copy's destination is configured the same way under OFFSITE_* names (<see cref="Offsite"/>).
/// </summary>
public sealed class FunctionRepository
{
    public const string PasswordSsmVariable = "RESTIC_PASSWORD_SSM_PARAMETER";

    /// <summary>Which repository: the names of its variables, and the one naming its password's SSM parameter.</summary>
    public sealed record Names(RepositoryNames Restic, string PasswordSsm);

    public static readonly Names Main = new(RepositoryNames.Main, PasswordSsmVariable);

    /// <summary>The offsite copy's destination: OFFSITE_REPOSITORY, OFFSITE_PASSWORD_SSM_PARAMETER (or
    /// OFFSITE_PASSWORD, _FILE, _COMMAND); the CA certificate is RESTIC_CACERT, as for restic's two repositories.</summary>
    public static readonly Names Offsite = new(new RepositoryNames("OFFSITE_REPOSITORY", "OFFSITE_PASSWORD_FILE", "OFFSITE_PASSWORD_COMMAND",
        "OFFSITE_REPOSITORY", "OFFSITE_PASSWORD", "OFFSITE_PASSWORD_FILE", "OFFSITE_PASSWORD_COMMAND"), "OFFSITE_PASSWORD_SSM_PARAMETER");

    private readonly FunctionEnvironment _environment;
    private readonly RepositorySettings _settings;

    /// <param name="credentials">The store's credentials when not the function role's (the offsite copier's
    /// assumed role).</param>
    public FunctionRepository(FunctionEnvironment environment, Names? names = null, Amazon.Runtime.AWSCredentials? credentials = null)
    {
        names ??= Main;
        _environment = environment;
        var ssm = environment.Optional(names.PasswordSsm);
        if (ssm != null && ResticEnvironment.PasswordFrom(environment.Variables, names: names.Restic) != null)
            throw new ConfigurationException($"set {names.PasswordSsm} or the password variables, not both");
        _settings = ResticEnvironment.Read(environment.Variables, password: ssm != null ? new SsmPassword(environment.Secrets, ssm) : null, names: names.Restic)
            with { Credentials = credentials ?? environment.Credentials };
    }

    /// <summary>Where the repository is (for results and messages; it holds no secret).</summary>
    public string Location => _settings.Location;

    // The store's retries end this long before the invocation's deadline, so that a store still out of reach is
    // reported as unavailable rather than as a timed-out function.
    private static readonly TimeSpan RetryMargin = TimeSpan.FromSeconds(10);

    /// <summary>Opens the repository for one invocation: no store call retries past its deadline, nor longer than
    /// <paramref name="atMost"/> from now when given (for work that matters less than what comes after it).</summary>
    public async Task<Repo> OpenAsync(InvocationContext context, TimeSpan? atMost = null)
    {
        var deadline = context.Deadline - RetryMargin;
        if (atMost is { } most && context.TimeProvider.GetUtcNow() + most < deadline) deadline = context.TimeProvider.GetUtcNow() + most;
        // Obtained once per execution environment (one SSM call or command per cold start; a failure is tried
        // again), and masked in whatever leaves the function.
        _environment.Redactor.Add(await _settings.Password.ReadAsync(context.CancellationToken));
        return await _settings.OpenAsync(context.CancellationToken, deadline);
    }

    private sealed class SsmPassword(SecretResolver secrets, string parameter) : PasswordSource
    {
        protected override Task<string> ObtainAsync(CancellationToken ct) => secrets.ResolveAsync(new SecretRef { Ssm = parameter }, ct);
        protected override string Describe() => $"SSM parameter {parameter}";
    }
}
