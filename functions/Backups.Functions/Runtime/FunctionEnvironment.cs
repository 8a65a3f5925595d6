using Amazon.Runtime;
using Backups.Aws;
using Backups.Aws.Secrets;

namespace Backups.Functions.Runtime;

/// <summary>
/// What a function is configured with: its environment variables (a copy in tests), the secrets resolved from
/// them (each one also masked in every error and message), the clock, and AWS region and credentials.
/// </summary>
public sealed class FunctionEnvironment(IReadOnlyDictionary<string, string> variables, TimeProvider? time = null) : IDisposable
{
    public SecretResolver Secrets { get; } = new(variables);

    public IReadOnlyDictionary<string, string> Variables => variables;

    public Redactor Redactor => Secrets.Redactor;

    public TimeProvider Time { get; } = time ?? TimeProvider.System;

    /// <summary>A text fit to leave the function (error, email, webhook): known secrets masked, likely ones scrubbed.</summary>
    public string Clean(string text) => SecretScrubber.Scrub(Redactor.Redact(text));

    public string? Optional(string name) => variables.GetValueOrDefault(name) is { } v && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;

    public string Required(string name) => Optional(name) ?? throw new ConfigurationException($"environment variable {name} is required");

    public string Region => Optional("AWS_REGION") ?? Optional("AWS_DEFAULT_REGION")
        ?? throw new ConfigurationException("environment variable AWS_REGION is required");

    /// <summary>The standard endpoint override for one service (e.g. AWS_ENDPOINT_URL_SESV2), then AWS_ENDPOINT_URL.</summary>
    public Uri? Endpoint(string serviceVariable) =>
        (Optional(serviceVariable) ?? Optional("AWS_ENDPOINT_URL")) is { } url ? new Uri(url) : null;

    /// <summary>Lambda puts the function role's credentials in the variables; without them AWSSDK.Core's chain decides.</summary>
    public AwsClientOptions AwsClient(string endpointVariable) =>
        new() { Credentials = new AwsCredentialSource(Region, Credentials), ServiceUrl = Endpoint(endpointVariable), TimeProvider = Time };

    /// <summary>The function role's credentials from the variables (the repository's store is reached with them too).</summary>
    public AWSCredentials? Credentials =>
        (Optional("AWS_ACCESS_KEY_ID"), Optional("AWS_SECRET_ACCESS_KEY"), Optional("AWS_SESSION_TOKEN")) switch
        {
            ({ } id, { } secret, { } token) => new SessionAWSCredentials(id, secret, token),
            ({ } id, { } secret, null) => new BasicAWSCredentials(id, secret),
            _ => null,
        };

    public void Dispose() => Secrets.Dispose();
}
