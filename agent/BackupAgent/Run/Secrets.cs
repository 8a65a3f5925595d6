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

    public void Dispose() => _resolver.Dispose();
}
