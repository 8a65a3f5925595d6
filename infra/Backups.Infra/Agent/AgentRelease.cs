using System.Security.Cryptography;
using Amazon.CDK;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.S3.Assets;
using Constructs;

namespace Backups.Infra.Agent;

/// <summary>
/// The backup-agent binary (agent/build.sh's output) published as a CDK file asset: `cdk deploy` uploads it to the
/// environment's asset bucket under a key derived from its content, so every build is an object of its own and an
/// installed box is never handed a file that changed under its name. Its SHA-256, taken here at synth, goes into the
/// SSM document, which installs the binary only when the download matches it.
/// </summary>
public sealed class AgentRelease : Construct
{
    public Asset Binary { get; }

    /// <summary>The binary's SHA-256, lowercase hex (what sha256sum prints).</summary>
    public string Sha256 { get; }

    /// <summary>The object's virtual-hosted https URL, which the box downloads with its role's credentials.</summary>
    public string Url { get; }

    public AgentRelease(Construct scope, string id, BackupSettings settings) : base(scope, id)
    {
        Binary = new Asset(this, "Binary", new AssetProps { Path = settings.AgentBinary });
        using (var file = File.OpenRead(settings.AgentBinary)) Sha256 = Convert.ToHexStringLower(SHA256.HashData(file));
        var stack = Stack.Of(this);
        Url = $"https://{Binary.S3BucketName}.s3.{stack.Region}.{stack.UrlSuffix}/{Binary.S3ObjectKey}";
    }

    /// <summary>Reading this object, and nothing else of the asset bucket.</summary>
    public PolicyStatement ReadStatement() => new(new PolicyStatementProps
    {
        Actions = ["s3:GetObject"],
        Resources = [$"arn:{Aws.PARTITION}:s3:::{Binary.S3BucketName}/{Binary.S3ObjectKey}"],
    });
}
