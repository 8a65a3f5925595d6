using Amazon.CDK;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.S3;
using Constructs;

namespace Backups.Infra.Storage;

/// <summary>
/// The offsite copy's destination and the role the copier (the Offsite function) assumes to write it. The role is
/// all the destination grants: list and read its repository folder (copy reads the config, keys, index and
/// snapshots to know what is there), create files in data/, index/, snapshots/ and locks/ (with the same
/// conditional writes as the box), and remove its own lock files; nothing else, and no delete of any backup file.
/// Only the copier's role may assume it, so a leaked box credential or a compromised source bucket reaches none
/// of it.
/// </summary>
public sealed class OffsiteStorage : Construct
{
    /// <summary>The bucket, when this stack made it (no offsiteRoleArn given).</summary>
    public IBucket? Bucket { get; }

    /// <summary>The role this stack made, when it made the bucket.</summary>
    public Role? CopierRole { get; }

    public string RoleArn { get; }

    /// <summary>The repository string the copier opens, as restic spells it.</summary>
    public string Repository { get; }

    public OffsiteStorage(Construct scope, string id, OffsiteSettings settings, IRole copier) : base(scope, id)
    {
        var stack = Stack.Of(this);
        Repository = $"s3:s3.{settings.Region ?? stack.Region}.{stack.UrlSuffix}/{settings.BucketName}/{settings.Prefix}";
        if (settings.RoleArn is { } external)
        {
            RoleArn = external;
            return;
        }
        Bucket = new Bucket(this, "Bucket", new BucketProps
        {
            BucketName = settings.BucketName,
            Versioned = true,
            Encryption = BucketEncryption.S3_MANAGED,
            BlockPublicAccess = BlockPublicAccess.BLOCK_ALL,
            EnforceSSL = true,
            RemovalPolicy = RemovalPolicy.RETAIN,
        });
        CopierRole = new Role(this, "CopierRole", new RoleProps
        {
            AssumedBy = new ArnPrincipal(copier.RoleArn),
            Description = "Assumed by the Offsite function to copy snapshots into the offsite repository",
        });
        var access = new RepositoryAccess(Bucket, settings.Prefix);
        access.GrantList(CopierRole);
        access.Grant(CopierRole, ["s3:GetObject"], "*");
        access.Grant(CopierRole, ["s3:PutObject"], RepositoryAccess.WritableKeys);
        access.Grant(CopierRole, ["s3:DeleteObject"], "locks/*");
        // The bucket holds the copier to what it would hold the box to: no overwrite, no delete outside locks/.
        AppendOnlyPolicy.Apply(Bucket, settings.Prefix, CopierRole);
        RoleArn = CopierRole.RoleArn;
    }
}
