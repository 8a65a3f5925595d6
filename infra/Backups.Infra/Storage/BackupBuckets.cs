using Amazon.CDK;
using Amazon.CDK.AWS.S3;
using Constructs;

namespace Backups.Infra.Storage;

/// <summary>
/// The seeds' three buckets. The backup bucket has no lifecycle rules: what to keep is the repository's
/// retention policy, and a lifecycle rule deleting pack files would silently break snapshots.
/// </summary>
public sealed class BackupBuckets : Construct
{
    public Bucket Backups { get; }
    public Bucket Releases { get; }
    public Bucket Assets { get; }

    public BackupBuckets(Construct scope, string id, BackupSettings settings) : base(scope, id)
    {
        Backups = new Bucket(this, "Backups", Private(settings.BackupBucketName, new BucketProps
        {
            // Versions keep an overwritten or deleted object recoverable: a compromised box can write to the
            // bucket, and this is the last line against it.
            Versioned = true,
        }));
        Releases = new Bucket(this, "Releases", Private(settings.ReleasesBucketName, new BucketProps
        {
            Versioned = true,
            LifecycleRules = [new LifecycleRule { Id = "expire-old-releases", NoncurrentVersionExpiration = Duration.Days(30) }],
        }));
        // Served only through CloudFront with origin access control: private like the others.
        Assets = new Bucket(this, "Assets", Private(settings.AssetsBucketName, new BucketProps()));
    }

    private static BucketProps Private(string name, BucketProps props)
    {
        props.BucketName = name;
        props.Encryption = BucketEncryption.S3_MANAGED;
        props.BlockPublicAccess = BlockPublicAccess.BLOCK_ALL;
        props.EnforceSSL = true;
        props.ObjectOwnership = ObjectOwnership.BUCKET_OWNER_ENFORCED;
        props.RemovalPolicy = RemovalPolicy.RETAIN;
        return props;
    }
}
