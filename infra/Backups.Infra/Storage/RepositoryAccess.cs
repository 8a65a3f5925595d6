using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.S3;

namespace Backups.Infra.Storage;

/// <summary>IAM statements for the repository's folder of the backup bucket, and nothing else of it.</summary>
public sealed class RepositoryAccess(IBucket bucket, string prefix)
{
    public void GrantList(IGrantable grantee) => grantee.GrantPrincipal.AddToPrincipalPolicy(ListStatement());

    /// <param name="keys">Patterns under the repository's folder: "*", or "locks/*".</param>
    public void Grant(IGrantable grantee, string[] actions, params string[] keys) =>
        grantee.GrantPrincipal.AddToPrincipalPolicy(Statement(actions, keys));

    /// <summary>Listing the repository's folder, as a statement for a policy of one's own.</summary>
    public PolicyStatement ListStatement() => new(new PolicyStatementProps
    {
        Actions = ["s3:ListBucket"],
        Resources = [bucket.BucketArn],
        Conditions = new Dictionary<string, object>
        {
            ["StringLike"] = new Dictionary<string, object> { ["s3:prefix"] = new[] { prefix, $"{prefix}/*" } },
        },
    });

    /// <summary><paramref name="actions"/> on the repository's <paramref name="keys"/>, as a statement for a policy of one's own.</summary>
    public PolicyStatement Statement(string[] actions, params string[] keys) => new(new PolicyStatementProps
    {
        Actions = actions,
        Resources = [.. keys.Select(k => bucket.ArnForObjects($"{prefix}/{k}"))],
    });

    /// <summary>"data/*", "index/*", "snapshots/*", "locks/*": what the box and the Retention function may write.</summary>
    public static string[] WritableKeys => [.. AppendOnlyPolicy.WritableFolders.Select(f => $"{f}/*")];

    /// <summary>"data/*": a PUT with x-amz-tagging (every data pack's upload) also needs s3:PutObjectTagging. The
    /// same grant lets the holder retag a pack later, which at worst moves a tree pack to the cold class (still
    /// read instantly) or keeps a data pack in STANDARD: a cost, never a loss.</summary>
    public static string[] TaggedKeys => ["data/*"];
}
