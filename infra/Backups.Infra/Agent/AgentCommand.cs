using Amazon.CDK;
using Amazon.CDK.AWS.Logs;
using Amazon.CDK.AWS.SSM;
using Constructs;

namespace Backups.Infra.Agent;

/// <summary>
/// The SSM document through which the workflow starts backup-agent on the box (the nightly run, or a restore
/// drill), and the log group its output goes to. The action, the chosen sources and tags, and the name of the
/// one-time SecureString that will hold the task token arrive as document parameters; each parameter's allowed
/// pattern or values admit no quote, space or shell metacharacter, so none can break out of the quoted strings
/// below. The token itself is never a command parameter (anyone allowed to list commands, and the SSM agent's
/// files on the box, would show it): the agent reads the SecureString and deletes it.
/// </summary>
public sealed class AgentCommand : Construct
{
    public CfnDocument Document { get; }
    public LogGroup Logs { get; }

    public AgentCommand(Construct scope, string id, BackupSettings settings) : base(scope, id)
    {
        Logs = new LogGroup(this, "Logs", new LogGroupProps
        {
            LogGroupName = $"/backups/{settings.HostName}/agent",
            Retention = settings.LogRetention,
            RemovalPolicy = RemovalPolicy.RETAIN,
        });
        Document = new CfnDocument(this, "Document", new CfnDocumentProps
        {
            DocumentType = "Command",
            DocumentFormat = "JSON",
            UpdateMethod = "NewVersion",
            Content = new Dictionary<string, object>
            {
                ["schemaVersion"] = "2.2",
                ["description"] = "Runs backup-agent's nightly job and reports to the Step Functions task that started it.",
                ["parameters"] = new Dictionary<string, object>
                {
                    ["TokenParameter"] = Parameter("The SecureString the workflow writes the task token to; the agent reads and deletes it.", TokenParameterPattern, null),
                    ["Action"] = new Dictionary<string, object>
                    {
                        ["type"] = "String", ["description"] = "run: the nightly backup; drill-now or drill-when-due: a restore drill.",
                        ["allowedValues"] = Actions, ["default"] = "run",
                    },
                    ["Sources"] = Parameter("JSON array of source names to back up; [] means all.", NameListPattern, "[]"),
                    ["Tags"] = Parameter("JSON array of extra tags for the snapshots.", NameListPattern, "[]"),
                },
                ["mainSteps"] = new object[]
                {
                    new Dictionary<string, object>
                    {
                        ["action"] = "aws:runShellScript",
                        ["name"] = "backup",
                        ["inputs"] = new Dictionary<string, object>
                        {
                            ["timeoutSeconds"] = AgentTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
                            ["runCommand"] = Script(settings),
                        },
                    },
                },
            },
        });
    }

    /// <summary>Longer than any backup should take; the workflow's own timeout is the same.</summary>
    public const int AgentTimeoutSeconds = 6 * 3600;

    /// <summary>Where the workflow writes each run's task token, under a fresh UUID (statemachine/backup.asl.json).</summary>
    public const string TokenParameterPath = "/backups/task-tokens";
    // A UUID under that path; names are what RunConfig allows for sources and tags.
    public const string TokenParameterPattern = "^/backups/task-tokens/[0-9a-f-]{36}$";
    public const string NameListPattern = "^\\[(\"[A-Za-z0-9_.:-]+\",?)*\\]$";
    public static readonly string[] Actions = ["run", "drill-now", "drill-when-due"];

    private static Dictionary<string, object> Parameter(string description, string pattern, string? defaultValue)
    {
        var p = new Dictionary<string, object> { ["type"] = "String", ["description"] = description, ["allowedPattern"] = pattern };
        if (defaultValue != null) p["default"] = defaultValue;
        return p;
    }

    private static string[] Script(BackupSettings settings) =>
    [
        "set -eu",
        "export BACKUP_AGENT_TASK_TOKEN_PARAMETER='{{TokenParameter}}'",
        "set --",
        "for s in $(printf '%s' '{{Sources}}' | tr -d '[]\"' | tr ',' ' '); do set -- \"$@\" --source \"$s\"; done",
        "case '{{Action}}' in",
        "  run) for t in $(printf '%s' '{{Tags}}' | tr -d '[]\"' | tr ',' ' '); do set -- \"$@\" --tag \"$t\"; done; set -- run \"$@\" ;;",
        "  drill-now) set -- drill \"$@\" ;;",
        "  drill-when-due) set -- drill --when-due \"$@\" ;;",
        "esac",
        $"exec '{settings.AgentPath}' \"$@\" --config '{settings.AgentConfigPath}'",
    ];
}
