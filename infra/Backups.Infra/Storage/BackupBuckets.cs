using Amazon.CDK;
using Amazon.CDK.AWS.S3;
using Constructs;

namespace Backups.Infra.Storage;

/// <summary>
/// The backup bucket, and the seeds' releases and assets buckets when a deployment names them (nothing here
/// uses those two; they stay for deployments that made them). The backup bucket keeps every object version for the lock period whoever deletes
/// it (Object Lock, governance mode): a delete only hides it behind a delete marker until then. Its lifecycle
/// rules never expire a current object (what to keep is the repository's retention policy; a rule expiring
/// current pack files would silently break snapshots): one expires noncurrent versions (what prune and forget
/// deleted) after the configured days, no earlier than the lock lets go, and the delete markers left behind; the
/// other moves data packs, and only those, to the cold class. Data packs are told apart by the object tag the S3
/// backend puts on them at upload (their keys look like tree packs'): tree packs, index, snapshots, keys and
/// config are read by every command and stay in STANDARD, where a GET costs nothing extra.
/// </summary>
public sealed class BackupBuckets : Construct
{
    public Bucket Backups { get; }
    public Bucket? Releases { get; }
    public Bucket? Assets { get; }

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
                    Id = "expire-deleted-versions",
                    NoncurrentVersionExpiration = Duration.Days(settings.NoncurrentVersionDays),
                    ExpiredObjectDeleteMarker = true,
                },
                .. ColdTier(settings),
            ],
        }));
        if (settings.ReleasesBucketName is { } releases)
            Releases = new Bucket(this, "Releases", Private(releases, new BucketProps
            {
                Versioned = true,
                LifecycleRules = [new LifecycleRule { Id = "expire-old-releases", NoncurrentVersionExpiration = Duration.Days(30) }],
            }));
        // Served only through CloudFront with origin access control: private like the others.
        if (settings.AssetsBucketName is { } assets) Assets = new Bucket(this, "Assets", Private(assets, new BucketProps()));
    }

    /// <summary>The tag S3Backend puts on every data pack (Backups.Core's S3Backend.BlobTypeTagKey and
    /// DataPackTagValue; the infra does not reference core, a test holds the two equal).</summary>
    public const string BlobTypeTagKey = "backup-blob-type", DataPackTagValue = "data";

    /// <summary>GLACIER_IR bills at least 128 KiB per object and S3 does not move smaller ones by default; the rule
    /// says so rather than rely on the default.</summary>
    public const int ColdMinimumObjectSize = 128 * 1024;

    private static IEnumerable<LifecycleRule> ColdTier(BackupSettings settings)
    {
        var storageClass = settings.ColdStorageClass switch
        {
            "GLACIER_IR" => StorageClass.GLACIER_INSTANT_RETRIEVAL,
            "STANDARD_IA" => StorageClass.INFREQUENT_ACCESS,
            _ => null,
        };
        if (storageClass == null) yield break;
        yield return new LifecycleRule
        {
            Id = "data-packs-to-cold-storage",
            Prefix = $"{settings.RepositoryPrefix}/data/",
            TagFilters = new Dictionary<string, object> { [BlobTypeTagKey] = DataPackTagValue },
            ObjectSizeGreaterThan = ColdMinimumObjectSize,
            Transitions = [new Transition { StorageClass = storageClass, TransitionAfter = Duration.Days(settings.ColdAfterDays) }],
        };
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
