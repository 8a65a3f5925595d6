using Amazon.CDK;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.Logs;
using Amazon.CDK.AWS.S3;
using Backups.Infra.Secrets;
using Backups.Infra.Storage;
using Constructs;

namespace Backups.Infra.Agent;

/// <summary>
/// The box's instance role, append-only: it may read the repository, create files under data/, index/,
/// snapshots/ and locks/ (never replace one: the bucket policy refuses PUTs without If-None-Match) and remove only
/// lock files, so a compromised box can neither destroy nor rewrite its history. It reads only the named
/// parameters and its runs' one-time task token parameters (which it deletes), answers only the workflow's task (granted by the workflow), writes the agent's command output to
/// its log group, and has the few SSM actions the SSM agent needs to receive Run Command, on this instance only,
/// instead of AmazonSSMManagedInstanceCore (whose ssm:GetParameter(s) on every parameter would read any secret).
/// </summary>
public sealed class AgentInstanceRole : Construct
{
    public Role Role { get; }
    public CfnInstanceProfile Profile { get; }

    /// <summary>What the SSM agent calls to register, get Run Command messages and answer them.</summary>
    public static readonly string[] SsmAgentActions =
    [
        "ssm:UpdateInstanceInformation",
        "ec2messages:AcknowledgeMessage", "ec2messages:DeleteMessage", "ec2messages:FailMessage",
        "ec2messages:GetEndpoint", "ec2messages:GetMessages", "ec2messages:SendReply",
        "ssmmessages:CreateControlChannel", "ssmmessages:OpenControlChannel",
    ];

    public AgentInstanceRole(Construct scope, string id, BackupSettings settings, IBucket backups, ILogGroup agentLogs) : base(scope, id)
    {
        Role = new Role(this, "Role", new RoleProps
        {
            AssumedBy = new ServicePrincipal("ec2.amazonaws.com"),
            Description = "backup-agent on the backed-up instance",
        });
        Profile = new CfnInstanceProfile(this, "Profile", new CfnInstanceProfileProps { Roles = [Role.RoleName] });

        var repository = new RepositoryAccess(backups, settings.RepositoryPrefix);
        repository.GrantList(Role);
        repository.Grant(Role, ["s3:GetObject"], "*");
        repository.Grant(Role, ["s3:PutObject"], RepositoryAccess.WritableKeys);
        repository.Grant(Role, ["s3:PutObjectTagging"], RepositoryAccess.TaggedKeys);
        repository.Grant(Role, ["s3:DeleteObject"], "locks/*");
        Parameters.GrantRead(this, Role, [settings.PasswordParameter, .. settings.AgentParameters]);
        // The run's task token: read once, then deleted.
        Role.AddToPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["ssm:GetParameter", "ssm:DeleteParameter"],
            Resources = [Parameters.Arn(this, $"{AgentCommand.TokenParameterPath}/*")],
        }));

        // These actions take no resource but "*"; the condition holds them to requests from this instance's
        // credentials (the role could be attached elsewhere).
        var instance = Stack.Of(this).FormatArn(new ArnComponents { Service = "ec2", Resource = "instance", ResourceName = settings.InstanceId });
        Role.AddToPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = SsmAgentActions,
            Resources = ["*"],
            Conditions = new Dictionary<string, object>
            {
                ["StringEquals"] = new Dictionary<string, object> { ["ec2:SourceInstanceARN"] = instance },
            },
        }));
        // The document sends the command's output to CloudWatch Logs with the instance's credentials.
        Role.AddToPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            Resources = [agentLogs.LogGroupArn], // ends in ":*": its streams
        }));
    }
}
