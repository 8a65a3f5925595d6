using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;

namespace Backups.Aws.Secrets;

/// <summary>
/// Resolves secret references and remembers every value it hands out, so that <see cref="Redactor"/> can
/// scrub them from anything that leaves the process as text.
/// </summary>
/// <param name="environment">The process environment (a copy in tests): <c>env</c> references and the SSM
/// endpoint override (AWS_ENDPOINT_URL_SSM, AWS_ENDPOINT_URL) are read from it.</param>
public sealed class SecretResolver(IReadOnlyDictionary<string, string> environment) : IDisposable
{
    private IAmazonSimpleSystemsManagement? _ssm;

    public Redactor Redactor { get; } = new();

    /// <exception cref="SecretException">The reference is malformed, or its source is missing, unreadable or empty.</exception>
    public async Task<string> ResolveAsync(SecretRef secret, CancellationToken ct)
    {
        var value = secret switch
        {
            { Problem: { } problem } => throw new SecretException(problem),
            { Value: { } v } => v,
            { Env: { } name } => environment.GetValueOrDefault(name) ?? throw new SecretException($"environment variable {name} is not set"),
            { File: { } file } => ReadFile(file),
            { Ssm: { } parameter } => await ReadParameterAsync(parameter, ct),
            _ => throw new SecretException("give exactly one of env, file, ssm, value"),
        };
        if (value.Length == 0) throw new SecretException("the secret is empty");
        Redactor.Add(value);
        return value;
    }

    private static string ReadFile(string file)
    {
        try
        {
            // Like restic's --password-file: the trailing newline an editor leaves is not part of the secret.
            return File.ReadAllText(file).TrimEnd('\r', '\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SecretException($"cannot read {file}: {e.Message}");
        }
    }

    private async Task<string> ReadParameterAsync(string name, CancellationToken ct)
    {
        try
        {
            var response = await Ssm().GetParameterAsync(new GetParameterRequest { Name = name, WithDecryption = true }, ct);
            return response.Parameter.Value;
        }
        catch (AmazonSimpleSystemsManagementException e)
        {
            // The SDK's message names the parameter and the reason, never its value.
            throw new SecretException($"cannot read SSM parameter {name}: {e.ErrorCode}: {e.Message}");
        }
        catch (Exception e) when (e is HttpRequestException or Amazon.Runtime.AmazonClientException)
        {
            throw new SecretException($"cannot reach SSM to read {name}: {e.Message}");
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
