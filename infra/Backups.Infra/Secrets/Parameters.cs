using Amazon.CDK;
using Amazon.CDK.AWS.IAM;
using Constructs;

namespace Backups.Infra.Secrets;

/// <summary>
/// Read access to named SSM parameters. The SecureStrings themselves are created out of band
/// (CloudFormation cannot create them); the default aws/ssm key lets anyone allowed to read a parameter
/// decrypt it, so no KMS statement is needed.
/// </summary>
public static class Parameters
{
    public static string Arn(Construct scope, string name) =>
        Stack.Of(scope).FormatArn(new ArnComponents { Service = "ssm", Resource = "parameter", ResourceName = name.TrimStart('/') });

    public static void GrantRead(Construct scope, IGrantable grantee, IEnumerable<string> names) =>
        grantee.GrantPrincipal.AddToPrincipalPolicy(ReadStatement(scope, names));

    /// <summary>Reading the named parameters, as a statement for a policy of one's own.</summary>
    public static PolicyStatement ReadStatement(Construct scope, IEnumerable<string> names) => new(new PolicyStatementProps
    {
        Actions = ["ssm:GetParameter"],
        Resources = names.Select(n => Arn(scope, n)).ToArray(),
    });
}
