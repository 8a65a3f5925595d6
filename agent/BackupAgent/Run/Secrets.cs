using Backups.Aws.Secrets;

namespace BackupAgent.Run;

/// <summary>
/// The shared <see cref="SecretResolver"/> as the nightly job sees it: a secret that cannot be resolved is a
/// mistake in the config, named by the field that refers to it (exit 2, BackupAgent.ConfigError).
/// </summary>
public sealed class Secrets(IReadOnlyDictionary<string, string> environment) : IDisposable
{
    private readonly SecretResolver _resolver = new(environment);

    public Redactor Redactor => _resolver.Redactor;

    public async Task<string> ResolveAsync(SecretRef secret, string at, CancellationToken ct)
    {
        try
        {
            return await _resolver.ResolveAsync(secret, ct);
        }
        catch (SecretException e)
        {
            throw new ConfigException(at, e.Message);
        }
    }

    /// <summary>The task token from the one-time SecureString the workflow wrote for this run (read, then deleted).</summary>
    public async Task<string> TakeTaskTokenAsync(string parameter, CancellationToken ct)
    {
        try
        {
            return await _resolver.TakeParameterAsync(parameter, TaskTokenWait, ct);
        }
        catch (SecretException e)
        {
            throw new ConfigException(TaskReporter.TokenParameterVariable, e.Message);
        }
    }

    /// <summary>How long the agent waits for the workflow to write its task token after starting it.</summary>
    public static readonly TimeSpan TaskTokenWait = TimeSpan.FromMinutes(5);

    public void Dispose() => _resolver.Dispose();
}
