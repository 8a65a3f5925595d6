using Amazon.CDK;
using Backups.Infra.Agent;
using Backups.Infra.Maintenance;
using Backups.Infra.Storage;
using Backups.Infra.Workflow;
using Constructs;

namespace Backups.Infra;

/// <summary>
/// Everything a deployment needs, wired as the architecture reads: buckets; the agent's command and role;
/// the maintenance functions; the workflow and its nightly schedule; alarms and email.
/// </summary>
public sealed class BackupStack : Stack
{
    public BackupBuckets Buckets { get; }
    public AgentRelease AgentRelease { get; }
    public AgentCommand Agent { get; }
    public AgentInstanceRole Instance { get; }
    public MaintenanceFunctions Functions { get; }
    public BackupWorkflow Workflow { get; }
    public Alerts.Alerts Alerts { get; }

    public BackupStack(Construct scope, string id, BackupSettings settings, IStackProps? props = null) : base(scope, id, props)
    {
        Buckets = new BackupBuckets(this, "Buckets", settings);
        AgentRelease = new AgentRelease(this, "AgentRelease", settings);
        Agent = new AgentCommand(this, "Agent", settings, AgentRelease);
        Instance = new AgentInstanceRole(this, "Instance", settings, Buckets.Backups, Agent.Logs, AgentRelease);
        Alerts = new Alerts.Alerts(this, "Alerts", settings);
        Functions = new MaintenanceFunctions(this, "Functions", settings, Buckets.Backups, Alerts.Sender, Agent.Logs.LogGroupName);
        Workflow = new BackupWorkflow(this, "Workflow", settings, Agent, Functions);
        Instance.Allow(new Amazon.CDK.AWS.IAM.PolicyStatement(new Amazon.CDK.AWS.IAM.PolicyStatementProps
        {
            Actions = ["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"],
            Resources = [Workflow.StateMachine.StateMachineArn],
        }));
        AppendOnlyPolicy.Apply(Buckets.Backups, settings.RepositoryPrefix, Instance.Role, Functions.Retention.Role!);
        Alerts.Watch(Workflow.StateMachine);

        if (Instance.Profile is { } profile)
            _ = new CfnOutput(this, "InstanceProfile", new CfnOutputProps
            {
                Value = profile.Ref, Description = "Attach to the instance: aws ec2 associate-iam-instance-profile",
            });
        _ = new CfnOutput(this, "InstancePolicy", new CfnOutputProps
        {
            Value = Instance.Policy.ManagedPolicyArn, Description = "What the box may do; attached to its role (aws iam attach-role-policy adds it to another)",
        });
        _ = new CfnOutput(this, "StateMachineArn", new CfnOutputProps
        {
            Value = Workflow.StateMachine.StateMachineArn, Description = "Start a manual run: aws stepfunctions start-execution",
        });
        _ = new CfnOutput(this, "AgentLogGroup", new CfnOutputProps { Value = Agent.Logs.LogGroupName });
    }
}
