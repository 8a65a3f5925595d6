using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;

namespace BackupAgent.Run;

/// <summary>
/// Resolves secret references and remembers every value it hands out, so that <see cref="Redactor"/> can
/// scrub them from anything that leaves the process as text.
/// </summary>
public sealed class Secrets(IReadOnlyDictionary<string, string> environment) : IDisposable
{
    private IAmazonSimpleSystemsManagement? _ssm;

    public Redactor Redactor { get; } = new();

    public async Task<string> ResolveAsync(SecretRef secret, string at, CancellationToken ct)
    {
        var value = secret switch
        {
            { Value: { } v } => v,
            { Env: { } name } => environment.GetValueOrDefault(name) ?? throw new ConfigException(at, $"environment variable {name} is not set"),
            { File: { } file } => ReadFile(file, at),
            { Ssm: { } parameter } => await ReadParameterAsync(parameter, at, ct),
            _ => throw new ConfigException(at, "give exactly one of env, file, ssm, value"),
        };
        if (value.Length == 0) throw new ConfigException(at, "the secret is empty");
        Redactor.Add(value);
        return value;
    }

    private static string ReadFile(string file, string at)
    {
        try
        {
            // Like restic's --password-file: the trailing newline an editor leaves is not part of the secret.
            return File.ReadAllText(file).TrimEnd('\r', '\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException(at, $"cannot read {file}: {e.Message}");
        }
    }

    private async Task<string> ReadParameterAsync(string name, string at, CancellationToken ct)
    {
        try
        {
            var response = await Ssm().GetParameterAsync(new GetParameterRequest { Name = name, WithDecryption = true }, ct);
            return response.Parameter.Value;
        }
        catch (AmazonSimpleSystemsManagementException e)
        {
            // The SDK's message names the parameter and the reason, never its value.
            throw new ConfigException(at, $"cannot read SSM parameter {name}: {e.ErrorCode}: {e.Message}");
        }
        catch (Exception e) when (e is HttpRequestException or Amazon.Runtime.AmazonClientException)
        {
            throw new ConfigException(at, $"cannot reach SSM to read {name}: {e.Message}");
        }
    }

    private IAmazonSimpleSystemsManagement Ssm()
    {
        if (_ssm != null) return _ssm;
        var config = new AmazonSimpleSystemsManagementConfig();
        // The standard endpoint override variables, read here so that they work whatever the SDK version.
        if ((environment.GetValueOrDefault("AWS_ENDPOINT_URL_SSM") ?? environment.GetValueOrDefault("AWS_ENDPOINT_URL")) is { } endpoint)
            config.ServiceURL = endpoint;
        return _ssm = new AmazonSimpleSystemsManagementClient(config);
    }

    public void Dispose() => _ssm?.Dispose();
}

/// <summary>Replaces every known secret value in a text.</summary>
public sealed class Redactor
{
    private const string Mask = "[redacted]";
    private readonly List<string> _secrets = [];

    public void Add(string secret)
    {
        lock (_secrets)
            if (!_secrets.Contains(secret))
            {
                _secrets.Add(secret);
                // Longest first, so a secret that contains another is masked whole.
                _secrets.Sort((a, b) => b.Length.CompareTo(a.Length));
            }
    }

    public string Redact(string text)
    {
        lock (_secrets)
            foreach (var s in _secrets)
                text = text.Replace(s, Mask, StringComparison.Ordinal);
        return text;
    }
}
