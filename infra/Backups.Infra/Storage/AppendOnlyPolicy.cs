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

    public static void Apply(IBucket bucket, string prefix, IRole instance, IRole retention)
    {
        string Keys(string pattern) => bucket.ArnForObjects($"{prefix}/{pattern}");
        var writable = WritableFolders.Select(f => Keys($"{f}/*")).ToArray();

        Deny(bucket, "DenySseC", [new AnyPrincipal()], ["s3:PutObject"], [bucket.ArnForObjects("*")],
            new() { ["Null"] = new Dictionary<string, object> { ["s3:x-amz-server-side-encryption-customer-algorithm"] = "false" } });
        Deny(bucket, "DenyPutsThatMayReplace", [instance.GrantPrincipal, retention.GrantPrincipal], ["s3:PutObject"], [bucket.ArnForObjects("*")],
            new() { ["Null"] = new Dictionary<string, object> { ["s3:if-none-match"] = "true" } });
        Deny(bucket, "DenyInstanceWritesOutsideRepositoryFolders", [instance.GrantPrincipal], ["s3:PutObject"], notResources: writable);
        Deny(bucket, "DenyInstanceDeletesOutsideLocks", [instance.GrantPrincipal], ["s3:DeleteObject"], notResources: [Keys("locks/*")]);
        Deny(bucket, "DenyRetentionDeletesOutsideRepositoryFolders", [retention.GrantPrincipal], ["s3:DeleteObject"], notResources: writable);
        // Versions are removed only by the lifecycle rule once their lock has ended (or by an operator): a
        // delete by the box or the function leaves a delete marker, and the data stays recoverable.
        Deny(bucket, "DenyVersionAndRetentionChanges", [instance.GrantPrincipal, retention.GrantPrincipal],
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
