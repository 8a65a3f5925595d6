using Amazon.Runtime;
using Backups.Aws;
using Xunit;

namespace Backups.Tests.Aws;

/// <summary>Tests that change the process's environment run alone, after every parallel collection.</summary>
[CollectionDefinition("process environment", DisableParallelization = true)]
public sealed class ProcessEnvironmentCollection;

[Collection("process environment")]
public sealed class AwsCredentialSourceTests
{
    private static readonly string[] AwsVariables =
    [
        "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
    ];

    [Fact]
    public void Region_comes_from_argument_then_aws_region_then_aws_default_region()
    {
        using var _ = new EnvironmentOverride(new() { ["AWS_REGION"] = "eu-west-3", ["AWS_DEFAULT_REGION"] = "ap-southeast-2" });
        Assert.Equal("us-west-2", new AwsCredentialSource("us-west-2").Region);
        Assert.Equal("eu-west-3", new AwsCredentialSource().Region);
        Environment.SetEnvironmentVariable("AWS_REGION", null);
        Assert.Equal("ap-southeast-2", new AwsCredentialSource().Region);
    }

    /// <summary>The SDK's chain as Lambda feeds it: temporary credentials in environment variables.</summary>
    [Fact]
    public async Task The_default_chain_reads_the_environment()
    {
        using var _ = new EnvironmentOverride(new()
        {
            ["AWS_ACCESS_KEY_ID"] = "ASIAENVEXAMPLE",
            ["AWS_SECRET_ACCESS_KEY"] = "env/secret",
            ["AWS_SESSION_TOKEN"] = "env-session-token",
        });

        var credentials = await new AwsCredentialSource("eu-west-1").GetCredentialsAsync();

        Assert.Equal("ASIAENVEXAMPLE", credentials.AccessKeyId);
        Assert.Equal("env/secret", credentials.SecretAccessKey);
        Assert.Equal("env-session-token", credentials.SessionToken);
    }

    [Fact]
    public async Task Given_credentials_replace_the_chain()
    {
        using var _ = new EnvironmentOverride(new() { ["AWS_ACCESS_KEY_ID"] = "ASIAENVEXAMPLE", ["AWS_SECRET_ACCESS_KEY"] = "env/secret" });

        var credentials = await new AwsCredentialSource("eu-west-1", new BasicAWSCredentials("AKIAGIVEN", "given/secret"))
            .GetCredentialsAsync();

        Assert.Equal("AKIAGIVEN", credentials.AccessKeyId);
        Assert.Equal("given/secret", credentials.SecretAccessKey);
        Assert.Null(credentials.SessionToken);
    }

    /// <summary>Clears every AWS_ variable these tests touch, sets the given ones, and restores all on dispose.</summary>
    private sealed class EnvironmentOverride : IDisposable
    {
        private readonly Dictionary<string, string?> _saved = AwsVariables.ToDictionary(n => n, Environment.GetEnvironmentVariable);

        public EnvironmentOverride(Dictionary<string, string?> values)
        {
            foreach (var name in AwsVariables) Environment.SetEnvironmentVariable(name, values.GetValueOrDefault(name));
        }

        public void Dispose()
        {
            foreach (var (name, value) in _saved) Environment.SetEnvironmentVariable(name, value);
        }
    }
}
