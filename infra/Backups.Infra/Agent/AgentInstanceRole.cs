using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.S3;
using Backups.Infra.Secrets;
using Backups.Infra.Storage;
using Constructs;

namespace Backups.Infra.Agent;

/// <summary>
/// The box's instance role: it may write the repository (and remove only its own lock files: the agent never
/// deletes data, so a compromised box cannot either), read the named parameters, and answer the workflow's
/// task (granted by the workflow). SSM's managed core policy lets the SSM agent receive Run Command.
/// </summary>
public sealed class AgentInstanceRole : Construct
{
    public Role Role { get; }
    public CfnInstanceProfile Profile { get; }

    public AgentInstanceRole(Construct scope, string id, BackupSettings settings, IBucket backups) : base(scope, id)
    {
        Role = new Role(this, "Role", new RoleProps
        {
            AssumedBy = new ServicePrincipal("ec2.amazonaws.com"),
            Description = "backup-agent on the backed-up instance",
            ManagedPolicies = [ManagedPolicy.FromAwsManagedPolicyName("AmazonSSMManagedInstanceCore")],
        });
        Profile = new CfnInstanceProfile(this, "Profile", new CfnInstanceProfileProps { Roles = [Role.RoleName] });

        var repository = new RepositoryAccess(backups, settings.RepositoryPrefix);
        repository.GrantList(Role);
        repository.Grant(Role, ["s3:GetObject", "s3:PutObject"], "*");
        repository.Grant(Role, ["s3:DeleteObject"], "locks/*");
        Parameters.GrantRead(this, Role, [settings.PasswordParameter, .. settings.AgentParameters]);
    }
}
