using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Backups.Infra;
using Backups.Infra.Agent;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Infra;

/// <summary>
/// The deployment path: the agent binary published with its checksum for the SSM document to install, the buckets
/// only backups need, an instance profile the box already has extended rather than replaced, and a synth before
/// the build scripts telling what to run.
/// </summary>
[Collection("cdk")]
public sealed class DeploymentStackTests(SynthesizedStack stack) : IClassFixture<SynthesizedStack>
{
    private static List<string> Actions(JsonNode statement) =>
        statement["Action"] is JsonArray many ? [.. many.Select(a => (string)a!)] : [(string)statement["Action"]!];

    private static IEnumerable<JsonNode> Statements((string Id, JsonObject Properties) policy) =>
        policy.Properties["PolicyDocument"]!["Statement"]!.AsArray().Select(s => s!);

    private static (string Id, JsonObject Properties) InstancePolicy(SynthesizedStack s) =>
        Assert.Single(s.Resources("AWS::IAM::ManagedPolicy"), p => p.Id.StartsWith("InstancePolicy"));

    [Fact]
    public void The_agent_binary_is_an_asset_whose_url_and_sha256_are_the_documents_defaults_and_the_box_reads_only_it()
    {
        var parameters = Assert.Single(stack.Resources("AWS::SSM::Document")).Properties["Content"]!["parameters"]!;
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(SynthesizedStack.AgentStubContent)));
        Assert.Equal(sha256, (string?)parameters["AgentSha256"]!["default"]);
        Assert.Equal(AgentCommand.Sha256Pattern, (string?)parameters["AgentSha256"]!["allowedPattern"]);

        // The asset's key is its content hash: a new build is a new object, never a changed one.
        var key = stack.Stack.AgentRelease.Binary.S3ObjectKey;
        Assert.Matches("^[0-9a-f]{64}", key);
        var url = parameters["AgentUrl"]!["default"]!.ToJsonString();
        Assert.Contains("cdk-hnb659fds-assets-", url);
        Assert.Contains($"/{key}", url);
        Assert.Matches(AgentCommand.AgentUrlPattern, $"https://cdk-hnb659fds-assets-123456789012-eu-west-1.s3.eu-west-1.amazonaws.com/{key}");
        Assert.Equal("{\"Ref\":\"AWS::Region\"}", parameters["AgentRegion"]!["default"]!.ToJsonString());

        var reads = Statements(InstancePolicy(stack)).Where(s => s["Resource"]!.ToJsonString().Contains("cdk-hnb659fds-assets")).ToList();
        var read = Assert.Single(reads);
        Assert.Equal(["s3:GetObject"], Actions(read));
        Assert.EndsWith($"/{key}\"]]}}", read["Resource"]!.ToJsonString());
    }

    [Fact]
    public void The_document_installs_the_agent_before_starting_it_and_keeps_the_agents_command_line()
    {
        var script = Assert.Single(stack.Resources("AWS::SSM::Document")).Properties["Content"]!["mainSteps"]![0]!["inputs"]!["runCommand"]!
            .AsArray().Select(l => (string)l!).ToList();
        var install = script.FindIndex(l => l.Contains("mv -f \"$tmp\" \"$agent\""));
        var start = script.FindIndex(l => l.StartsWith("exec '/usr/local/bin/backup-agent'"));
        Assert.InRange(install, 1, start - 1);
        Assert.Equal("exec '/usr/local/bin/backup-agent' \"$@\" --config '/etc/backup-agent/config.json'", script[^1]);
        // The credentials reach curl on its standard input only.
        Assert.DoesNotContain(script, l => l.Contains("--user") || l.Contains("-u \""));
    }

    [Fact]
    public void By_default_the_box_gets_a_new_role_and_profile_with_the_policy_attached()
    {
        var role = Assert.Single(stack.Resources("AWS::IAM::Role"), r => r.Id.StartsWith("InstanceRole")).Id;
        Assert.Equal(role, (string?)Assert.Single(InstancePolicy(stack).Properties["Roles"]!.AsArray())!["Ref"]);
        Assert.Single(stack.Resources("AWS::IAM::InstanceProfile"));
        Assert.NotNull(stack.Json["Outputs"]!["InstanceProfile"]);
        Assert.NotNull(stack.Json["Outputs"]!["InstancePolicy"]);
    }

    [Fact]
    public void An_existing_instance_role_gets_the_managed_policy_and_keeps_its_profile()
    {
        var existing = SynthesizedStack.With(new() { ["instanceRoleName"] = "web-1-role" });

        Assert.Empty(existing.Resources("AWS::IAM::InstanceProfile"));
        Assert.DoesNotContain(existing.Resources("AWS::IAM::Role"), r => r.Id.StartsWith("Instance"));
        Assert.Null(existing.Json["Outputs"]!["InstanceProfile"]);
        var policy = InstancePolicy(existing);
        Assert.Equal(["web-1-role"], policy.Properties["Roles"]!.AsArray().Select(r => (string)r!));
        // Everything the box may do is in that one policy: nothing inline on a role that is not the stack's.
        Assert.DoesNotContain(existing.Resources("AWS::IAM::Policy"), p => p.Properties["Roles"]!.ToJsonString().Contains("web-1-role"));
        var actions = Statements(policy).SelectMany(Actions).ToHashSet();
        Assert.Superset(new HashSet<string> { "s3:PutObject", "s3:GetObject", "ssm:UpdateInstanceInformation", "states:SendTaskSuccess", "logs:PutLogEvents" }, actions);
        // The bucket policy's append-only refusals name that role.
        var bucketPolicy = Assert.Single(existing.Resources("AWS::S3::BucketPolicy"), p => p.Id.StartsWith("BucketsBackups")).Properties.ToJsonString();
        Assert.Contains(":role/web-1-role", bucketPolicy);
    }

    [Fact]
    public void Without_releases_and_assets_buckets_only_the_backup_bucket_is_made()
    {
        var minimal = SynthesizedStack.With(new() { ["releasesBucket"] = null, ["assetsBucket"] = null });

        Assert.Equal(["acme-backups"], minimal.Resources("AWS::S3::Bucket").Select(b => (string)b.Properties["BucketName"]!));
    }

    [Theory]
    [InlineData("functionsPath", "functions/build.sh")]
    [InlineData("agentBinary", "agent/build.sh")]
    public void Without_the_build_output_the_settings_say_in_one_line_what_to_run(string key, string script)
    {
        using var empty = new TempDir();
        var context = new Dictionary<string, object>(SynthesizedStack.Context) { [key] = empty.Combine("not-built") };
        var app = new Amazon.CDK.App(new Amazon.CDK.AppProps { Context = context });

        var e = Assert.Throws<SettingsException>(() => BackupSettings.FromContext(app.Node));

        Assert.Contains($"context value '{key}'", e.Message);
        Assert.Contains($"run {script} from the repository root first", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
