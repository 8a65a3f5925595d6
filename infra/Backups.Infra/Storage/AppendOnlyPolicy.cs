using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.S3;

namespace Backups.Infra.Storage;

/// <summary>
/// The backup bucket's own refusals, which hold whatever identity policies say: nobody may use SSE-C (objects
/// encrypted with a key the attacker keeps would be unreadable to everyone else); the box and the Retention
/// function (both run our S3 backend, which sends If-None-Match on every PUT) may only create objects, never
/// replace one; the box creates only under data/, index/, snapshots/ and locks/ and deletes only lock files,
/// never a version; the Retention function deletes only under those four folders. Maintenance that needs more
/// (init, key, operator repairs) runs with an operator's credentials, which this policy does not bind.
/// </summary>
public static class AppendOnlyPolicy
{
    /// <summary>The folders the box and the Retention function may write (config and keys/ are the operator's).</summary>
    public static readonly string[] WritableFolders = ["data", "index", "snapshots", "locks"];

    /// <param name="instance">The box, or whatever writes as it may (the offsite copier in its bucket).</param>
    /// <param name="retention">The one role that may delete backup files, if any.</param>
    public static void Apply(IBucket bucket, string prefix, IRole instance, IRole? retention = null)
    {
        string Keys(string pattern) => bucket.ArnForObjects($"{prefix}/{pattern}");
        var writable = WritableFolders.Select(f => Keys($"{f}/*")).ToArray();
        IPrincipal[] writers = retention == null ? [instance.GrantPrincipal] : [instance.GrantPrincipal, retention.GrantPrincipal];

        Deny(bucket, "DenySseC", [new AnyPrincipal()], ["s3:PutObject"], [bucket.ArnForObjects("*")],
            new() { ["Null"] = new Dictionary<string, object> { ["s3:x-amz-server-side-encryption-customer-algorithm"] = "false" } });
        Deny(bucket, "DenyPutsThatMayReplace", writers, ["s3:PutObject"], [bucket.ArnForObjects("*")],
            new() { ["Null"] = new Dictionary<string, object> { ["s3:if-none-match"] = "true" } });
        Deny(bucket, "DenyInstanceWritesOutsideRepositoryFolders", [instance.GrantPrincipal], ["s3:PutObject"], notResources: writable);
        Deny(bucket, "DenyInstanceDeletesOutsideLocks", [instance.GrantPrincipal], ["s3:DeleteObject"], notResources: [Keys("locks/*")]);
        if (retention != null)
            Deny(bucket, "DenyRetentionDeletesOutsideRepositoryFolders", [retention.GrantPrincipal], ["s3:DeleteObject"], notResources: writable);
        // Versions are removed only by the lifecycle rule once their lock has ended (or by an operator): a
        // delete by the box or the function leaves a delete marker, and the data stays recoverable.
        Deny(bucket, "DenyVersionAndRetentionChanges", writers,
            ["s3:DeleteObjectVersion", "s3:BypassGovernanceRetention", "s3:PutObjectRetention", "s3:PutObjectLegalHold"], [bucket.ArnForObjects("*")]);
    }

    private static void Deny(IBucket bucket, string sid, IPrincipal[] principals, string[] actions, string[]? resources = null,
        Dictionary<string, object>? conditions = null, string[]? notResources = null) =>
        bucket.AddToResourcePolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = sid,
            Effect = Effect.DENY,
            Principals = principals,
            Actions = actions,
            Resources = resources,
            NotResources = notResources,
            Conditions = conditions,
        }));
}
