using Amazon.CDK;
using Amazon.CDK.AWS.Events;
using Amazon.CDK.AWS.Events.Targets;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.StepFunctions;
using Backups.Infra.Agent;
using Backups.Infra.Maintenance;
using Constructs;

namespace Backups.Infra.Workflow;

/// <summary>
/// The Step Functions workflow, loaded from statemachine/backup.asl.json with every ARN substituted, and the
/// EventBridge rule that starts it every night at 03:00 UTC with the default input.
/// </summary>
public sealed class BackupWorkflow : Construct
{
    public const string Schedule = "cron(0 3 * * ? *)";
    public const string DefinitionResource = "backup.asl.json";

    /// <summary>What a scheduled run asks for; a manual execution may override any of it.</summary>
    public static readonly Dictionary<string, object> ScheduledInput = new()
    {
        ["trigger"] = "schedule", ["sources"] = Array.Empty<string>(), ["tags"] = Array.Empty<string>(),
        ["skipRetention"] = false, ["deepVerify"] = false,
    };

    public StateMachine StateMachine { get; }
    public Rule Nightly { get; }

    public BackupWorkflow(Construct scope, string id, BackupSettings settings, AgentCommand agent, MaintenanceFunctions functions)
        : base(scope, id)
    {
        var stack = Stack.Of(this);
        var document = stack.FormatArn(new ArnComponents { Service = "ssm", Resource = "document", ResourceName = agent.Document.Ref });
        var instance = stack.FormatArn(new ArnComponents { Service = "ec2", Resource = "instance", ResourceName = settings.InstanceId });

        StateMachine = new StateMachine(this, "StateMachine", new StateMachineProps
        {
            DefinitionBody = DefinitionBody.FromString(Definition()),
            DefinitionSubstitutions = new Dictionary<string, string>
            {
                ["AgentDocumentName"] = agent.Document.Ref,
                ["AgentLogGroupName"] = agent.Logs.LogGroupName,
                ["InstanceId"] = settings.InstanceId,
                ["VerifyPlanFunctionArn"] = functions.VerifyPlan.FunctionArn,
                ["VerifyFunctionArn"] = functions.Verify.FunctionArn,
                ["VerifyMergeFunctionArn"] = functions.VerifyMerge.FunctionArn,
                ["RetentionFunctionArn"] = functions.Retention.FunctionArn,
                ["FreshnessFunctionArn"] = functions.Freshness.FunctionArn,
                ["NotifyFunctionArn"] = functions.Notify.FunctionArn,
                ["OffsiteFunctionArn"] = functions.Offsite.FunctionArn,
            },
            StateMachineType = StateMachineType.STANDARD,
            // The agent's own timeout plus the maintenance steps.
            Timeout = Duration.Seconds(AgentCommand.AgentTimeoutSeconds + 3600),
        });
        StateMachine.AddToRolePolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["ssm:SendCommand"],
            Resources = [document, instance],
        }));
        // Each run's task token goes to a one-time SecureString (under a fresh UUID) that the agent reads and deletes.
        StateMachine.AddToRolePolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["ssm:PutParameter"],
            Resources = [TokenParameters(this)],
        }));
        // When the agent falls silent, what became of its command (SilentCommand); the action takes no resource but "*".
        StateMachine.AddToRolePolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["ssm:GetCommandInvocation"],
            Resources = ["*"],
        }));
        foreach (var function in functions.ByHandler.Values) function.GrantInvoke(StateMachine);

        Nightly = new Rule(this, "Nightly", new RuleProps
        {
            Description = "Starts the nightly backup at 03:00 UTC",
            Schedule = Amazon.CDK.AWS.Events.Schedule.Expression(Schedule),
            Targets = [new SfnStateMachine(StateMachine, new SfnStateMachineProps { Input = RuleTargetInput.FromObject(ScheduledInput) })],
        });
    }

    /// <summary>The ARN pattern of the one-time task token parameters.</summary>
    public static string TokenParameters(Construct scope) => Secrets.Parameters.Arn(scope, $"{AgentCommand.TokenParameterPath}/*");

    /// <summary>The definition as committed in statemachine/ (embedded at build time, so it cannot drift).</summary>
    public static string Definition()
    {
        using var stream = typeof(BackupWorkflow).Assembly.GetManifestResourceStream(DefinitionResource)
                           ?? throw new InvalidOperationException($"{DefinitionResource} is not embedded in the infra assembly");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
