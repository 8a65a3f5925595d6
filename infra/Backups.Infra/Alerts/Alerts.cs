using Amazon.CDK;
using Amazon.CDK.AWS.CloudWatch;
using Amazon.CDK.AWS.CloudWatch.Actions;
using Amazon.CDK.AWS.SES;
using Amazon.CDK.AWS.SNS;
using Amazon.CDK.AWS.SNS.Subscriptions;
using Amazon.CDK.AWS.StepFunctions;
using Constructs;

namespace Backups.Infra.Alerts;

/// <summary>
/// Who hears about trouble. The workflow's own failure email needs a working Lambda and SES; these alarms
/// are the independent second channel: an execution that failed, timed out or was aborted, and, the failure
/// nothing else reports, no successful execution for 26 hours (the workflow did not run at all).
/// </summary>
public sealed class Alerts : Construct
{
    public EmailIdentity Sender { get; }
    public Topic Topic { get; }

    public Alerts(Construct scope, string id, BackupSettings settings) : base(scope, id)
    {
        Sender = new EmailIdentity(this, "Sender", new EmailIdentityProps { Identity = Identity.Email(settings.NotifyFrom) });
        Topic = new Topic(this, "Topic", new TopicProps { DisplayName = $"Backups of {settings.HostName}" });
        foreach (var address in settings.NotifyTo) Topic.AddSubscription(new EmailSubscription(address));
    }

    public void Watch(StateMachine workflow)
    {
        var action = new SnsAction(Topic);
        void AlarmWhenAny(string name, Metric metric, string what) =>
            new Alarm(this, name, new AlarmProps
            {
                AlarmDescription = what,
                Metric = metric,
                Threshold = 1,
                ComparisonOperator = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                EvaluationPeriods = 1,
                TreatMissingData = TreatMissingData.NOT_BREACHING,
            }).AddAlarmAction(action);

        var fiveMinutes = new MetricOptions { Period = Duration.Minutes(5), Statistic = "Sum" };
        AlarmWhenAny("Failed", workflow.MetricFailed(fiveMinutes), "A backup execution failed");
        AlarmWhenAny("TimedOut", workflow.MetricTimedOut(fiveMinutes), "A backup execution timed out");
        AlarmWhenAny("Aborted", workflow.MetricAborted(fiveMinutes), "A backup execution was aborted");

        // 26 hourly periods in a row without a success, missing data counting as none: a night skipped.
        var stale = new Alarm(this, "NoSuccess", new AlarmProps
        {
            AlarmDescription = "No successful backup execution for 26 hours",
            Metric = workflow.MetricSucceeded(new MetricOptions { Period = Duration.Hours(1), Statistic = "Sum" }),
            Threshold = 1,
            ComparisonOperator = ComparisonOperator.LESS_THAN_THRESHOLD,
            EvaluationPeriods = 26,
            DatapointsToAlarm = 26,
            TreatMissingData = TreatMissingData.BREACHING,
        });
        stale.AddAlarmAction(action);
    }
}
