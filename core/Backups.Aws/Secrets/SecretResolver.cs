using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using Backups.Core.Repositories;
using Backups.Core.Settings;

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
            return SecretFile.Read(file);
        }
        catch (RepositoryException e)
        {
            throw new SecretException(e.Message);
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

    /// <summary>
    /// Reads a one-time SecureString and deletes it (the workflow's task token, which it writes just after
    /// starting the command that runs us: it is waited for up to <paramref name="wait"/>). Deleting is best effort:
    /// a token left behind is worthless once its task has ended.
    /// </summary>
    /// <exception cref="SecretException">It did not appear in time, or SSM refused or could not be reached.</exception>
    public async Task<string> TakeParameterAsync(string name, TimeSpan wait, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            try
            {
                var value = (await Ssm().GetParameterAsync(new GetParameterRequest { Name = name, WithDecryption = true }, ct)).Parameter.Value;
                if (string.IsNullOrEmpty(value)) throw new SecretException($"SSM parameter {name} is empty");
                Redactor.Add(value);
                try
                {
                    await Ssm().DeleteParameterAsync(new DeleteParameterRequest { Name = name }, ct);
                }
                catch (Exception e) when (e is AmazonSimpleSystemsManagementException or HttpRequestException or Amazon.Runtime.AmazonClientException) { }
                return value;
            }
            catch (ParameterNotFoundException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
            }
            catch (AmazonSimpleSystemsManagementException e)
            {
                throw new SecretException($"cannot read SSM parameter {name}: {e.ErrorCode}: {e.Message}");
            }
            catch (Exception e) when (e is HttpRequestException or Amazon.Runtime.AmazonClientException)
            {
                throw new SecretException($"cannot reach SSM to read {name}: {e.Message}");
            }
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
