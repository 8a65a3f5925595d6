using Amazon.CDK;
using Amazon.CDK.AWS.S3;
using Constructs;

namespace Backups.Infra.Storage;

/// <summary>
/// The seeds' three buckets. The backup bucket keeps every object version for the lock period whoever deletes
/// it (Object Lock, governance mode): a delete only hides it behind a delete marker until then. Its one lifecycle
/// rule touches only noncurrent versions (what prune and forget deleted, once the lock lets go) and the delete
/// markers left behind: what to keep of the current objects is the repository's retention policy, and a rule
/// expiring current pack files would silently break snapshots.
/// </summary>
public sealed class BackupBuckets : Construct
{
    public Bucket Backups { get; }
    public Bucket Releases { get; }
    public Bucket Assets { get; }

    public BackupBuckets(Construct scope, string id, BackupSettings settings) : base(scope, id)
    {
        var lockPeriod = Duration.Days(settings.LockDays);
        Backups = new Bucket(this, "Backups", Private(settings.BackupBucketName, new BucketProps
        {
            // Versions keep an overwritten or deleted object recoverable, and Object Lock keeps each version for
            // the lock period against every credential without s3:BypassGovernanceRetention.
            Versioned = true,
            ObjectLockEnabled = true,
            ObjectLockDefaultRetention = ObjectLockRetention.Governance(lockPeriod),
            LifecycleRules =
            [
                new LifecycleRule
                {
                    Id = "expire-deleted-versions-after-the-lock-period",
                    NoncurrentVersionExpiration = lockPeriod,
                    ExpiredObjectDeleteMarker = true,
                },
            ],
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
