using Amazon.CDK;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.Logs;
using Amazon.CDK.AWS.S3;
using Backups.Infra.Secrets;
using Backups.Infra.Storage;
using Constructs;

namespace Backups.Infra.Agent;

/// <summary>
/// What the box may do, in one managed policy, append-only: it may read the repository, create files under data/,
/// index/, snapshots/ and locks/ (never replace one: the bucket policy refuses PUTs without If-None-Match) and remove
/// only lock files, so a compromised box can neither destroy nor rewrite its history. It reads only the named
/// parameters, its runs' one-time task token parameters (which it deletes) and the published agent binary, answers
/// only the workflow's task (<see cref="Allow"/>), writes the agent's command output to its log group, and has the
/// few SSM actions the SSM agent needs to receive Run Command, on this instance only, instead of
/// AmazonSSMManagedInstanceCore (whose ssm:GetParameter(s) on every parameter would read any secret).
/// The policy goes to a new role and instance profile, or, when the box already has a profile (context
/// instanceRoleName), to that profile's role, which keeps everything else it had.
/// </summary>
public sealed class AgentInstanceRole : Construct
{
    public IRole Role { get; }

    /// <summary>The new instance profile; null when the box keeps its own.</summary>
    public CfnInstanceProfile? Profile { get; }

    public ManagedPolicy Policy { get; }

    /// <summary>What the SSM agent calls to register, get Run Command messages and answer them.</summary>
    public static readonly string[] SsmAgentActions =
    [
        "ssm:UpdateInstanceInformation",
        "ec2messages:AcknowledgeMessage", "ec2messages:DeleteMessage", "ec2messages:FailMessage",
        "ec2messages:GetEndpoint", "ec2messages:GetMessages", "ec2messages:SendReply",
        "ssmmessages:CreateControlChannel", "ssmmessages:OpenControlChannel",
    ];

    public AgentInstanceRole(Construct scope, string id, BackupSettings settings, IBucket backups, ILogGroup agentLogs, AgentRelease release)
        : base(scope, id)
    {
        Policy = new ManagedPolicy(this, "Policy", new ManagedPolicyProps
        {
            Description = "backup-agent on the backed-up instance: append-only repository access, its secrets, Run Command",
        });
        if (settings.InstanceRoleName is { } existing)
        {
            // Immutable: every grant to the box goes into the managed policy, none into an inline policy of its role.
            Role = Amazon.CDK.AWS.IAM.Role.FromRoleName(this, "Role", existing, new FromRoleNameOptions { Mutable = false });
        }
        else
        {
            Role = new Role(this, "Role", new RoleProps
            {
                AssumedBy = new ServicePrincipal("ec2.amazonaws.com"),
                Description = "backup-agent on the backed-up instance",
            });
            Profile = new CfnInstanceProfile(this, "Profile", new CfnInstanceProfileProps { Roles = [Role.RoleName] });
        }
        Policy.AttachToRole(Role);

        var repository = new RepositoryAccess(backups, settings.RepositoryPrefix);
        Allow(repository.ListStatement());
        Allow(repository.Statement(["s3:GetObject"], "*"));
        Allow(repository.Statement(["s3:PutObject"], RepositoryAccess.WritableKeys));
        Allow(repository.Statement(["s3:PutObjectTagging"], RepositoryAccess.TaggedKeys));
        Allow(repository.Statement(["s3:DeleteObject"], "locks/*"));
        Allow(Parameters.ReadStatement(this, [settings.PasswordParameter, .. settings.AgentParameters]));
        Allow(release.ReadStatement());
        // The run's task token: read once, then deleted.
        Allow(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["ssm:GetParameter", "ssm:DeleteParameter"],
            Resources = [Parameters.Arn(this, $"{AgentCommand.TokenParameterPath}/*")],
        }));

        // These actions take no resource but "*"; the condition holds them to requests from this instance's
        // credentials (the role could be attached elsewhere).
        var instance = Stack.Of(this).FormatArn(new ArnComponents { Service = "ec2", Resource = "instance", ResourceName = settings.InstanceId });
        Allow(new PolicyStatement(new PolicyStatementProps
        {
            Actions = SsmAgentActions,
            Resources = ["*"],
            Conditions = new Dictionary<string, object>
            {
                ["StringEquals"] = new Dictionary<string, object> { ["ec2:SourceInstanceARN"] = instance },
            },
        }));
        // The document sends the command's output to CloudWatch Logs with the instance's credentials.
        Allow(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            Resources = [agentLogs.LogGroupArn], // ends in ":*": its streams
        }));
    }

    /// <summary>Adds a statement to the box's policy (the role may not be ours to add an inline policy to).</summary>
    public void Allow(PolicyStatement statement) => Policy.AddStatements(statement);
}
