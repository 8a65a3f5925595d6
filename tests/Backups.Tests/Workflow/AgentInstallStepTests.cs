using System.Text;
using System.Text.Json.Nodes;
using Backups.Tests.Infra;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Workflow;

/// <summary>
/// The SSM document's install step alone, as the box runs it: no credentials in its environment (the SSM agent
/// passes none), so it takes the instance role's from IMDSv2 (a recording stand-in here) and downloads the binary
/// from S3 (s3rver) with them.
/// </summary>
[Collection("cdk")]
public sealed class AgentInstallStepTests(S3rverFixture s3) : IClassFixture<S3rverFixture>
{
    /// <summary>The document's script up to the end of its install step, with the document's parameters given.</summary>
    private static string InstallStep(SynthesizedStack stack, string url, string sha256)
    {
        var lines = Assert.Single(stack.Resources("AWS::SSM::Document")).Properties["Content"]!["mainSteps"]![0]!["inputs"]!["runCommand"]!
            .AsArray().Select(l => (string)l!).ToList();
        return string.Join('\n', lines.Take(lines.IndexOf("fi") + 1))
            .Replace("{{AgentUrl}}", url).Replace("{{AgentRegion}}", S3rverFixture.Region).Replace("{{AgentSha256}}", sha256);
    }

    [Fact]
    public async Task Without_credentials_in_its_environment_the_install_step_downloads_with_the_instance_roles_from_imdsv2()
    {
        using var box = new TempDir();
        var binary = Encoding.UTF8.GetBytes($"#!/bin/sh\necho 'backup-agent {Guid.NewGuid()}'\n");
        var build = box.Combine("build-backup-agent");
        await File.WriteAllBytesAsync(build, binary);
        var agent = box.Combine("backup-agent");
        var stack = SynthesizedStack.With(new() { ["agentPath"] = agent, ["agentBinary"] = build });
        var url = await s3.PutObjectAsync($"agent/{Guid.NewGuid():N}/backup-agent", binary);
        var sha256 = (string)Assert.Single(stack.Resources("AWS::SSM::Document")).Properties["Content"]!["parameters"]!["AgentSha256"]!["default"]!;

        await using var imds = new RecordingAwsEndpoint();
        imds.Script("/latest/api/token", new ScriptedResponse(200, "imds-session-token"));
        imds.Script("/latest/meta-data/iam/security-credentials/", new ScriptedResponse(200, "box-role"));
        imds.Script("/latest/meta-data/iam/security-credentials/box-role", new ScriptedResponse(200, $$"""
            {
              "Code" : "Success",
              "Type" : "AWS-HMAC",
              "AccessKeyId" : "{{S3rverFixture.AccessKey}}",
              "SecretAccessKey" : "{{S3rverFixture.SecretKey}}",
              "Token" : "role-session-token",
              "Expiration" : "2099-01-01T00:00:00Z"
            }
            """));

        var r = await Processes.RunAsync("sh", ["-c", InstallStep(stack, url, sha256)], new Dictionary<string, string>
        {
            ["AWS_ACCESS_KEY_ID"] = "", ["AWS_SECRET_ACCESS_KEY"] = "", ["AWS_SESSION_TOKEN"] = "",
            ["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.Url.ToString(), ["CURL_CA_BUNDLE"] = s3.CaCertPath,
        });

        r.EnsureSuccess("the install step");
        Assert.Equal(binary, await File.ReadAllBytesAsync(agent));
        Assert.Contains($"backup-agent install: installed {sha256} from {url} at {agent}", r.StdoutText);
        // IMDSv2: a session token first, then the role and its credentials with it.
        var requests = imds.Requests;
        Assert.Equal(["PUT /latest/api/token", "GET /latest/meta-data/iam/security-credentials/", "GET /latest/meta-data/iam/security-credentials/box-role"],
            requests.Select(q => $"{q.Method} {q.Path}"));
        Assert.Equal("300", requests[0].Header("X-aws-ec2-metadata-token-ttl-seconds"));
        Assert.All(requests.Skip(1), q => Assert.Equal("imds-session-token", q.Header("X-aws-ec2-metadata-token")));
    }
}
