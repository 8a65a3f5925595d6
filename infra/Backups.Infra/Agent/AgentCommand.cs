using Amazon.CDK;
using Amazon.CDK.AWS.Logs;
using Amazon.CDK.AWS.SSM;
using Constructs;

namespace Backups.Infra.Agent;

/// <summary>
/// The SSM document through which the workflow starts backup-agent on the box (the nightly run, or a restore
/// drill), and the log group its output goes to. Before starting the agent the document installs the published
/// binary (<see cref="AgentRelease"/>) when the box lacks it: downloaded with the instance role's credentials,
/// refused unless its SHA-256 is the recorded one, and moved into place in one rename, so the box runs either the
/// old binary or the new one, never a partial file; a box that already has it downloads nothing. The action, the chosen sources and tags, and the name of the
/// one-time SecureString that will hold the task token arrive as document parameters; each parameter's allowed
/// pattern or values admit no quote, space or shell metacharacter, so none can break out of the quoted strings
/// below. The token itself is never a command parameter (anyone allowed to list commands, and the SSM agent's
/// files on the box, would show it): the agent reads the SecureString and deletes it.
/// </summary>
public sealed class AgentCommand : Construct
{
    public CfnDocument Document { get; }
    public LogGroup Logs { get; }

    public AgentCommand(Construct scope, string id, BackupSettings settings, AgentRelease release) : base(scope, id)
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
                    ["AgentUrl"] = Parameter("The published backup-agent binary (an https URL of an S3 object).", AgentUrlPattern, release.Url),
                    ["AgentRegion"] = Parameter("The region of the bucket holding the binary (its requests are signed for it).", RegionPattern, Stack.Of(this).Region),
                    ["AgentSha256"] = Parameter("The binary's SHA-256: installed only when the download has it.", Sha256Pattern, release.Sha256),
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
    public const string AgentUrlPattern = "^https://[A-Za-z0-9.:-]+(/[A-Za-z0-9._~-]+)+$";
    public const string RegionPattern = "^[a-z0-9-]+$";
    public const string Sha256Pattern = "^[0-9a-f]{64}$";

    /// <summary>The install step's exit status when it cannot install the binary (download refused, wrong checksum).</summary>
    public const int InstallFailedExitCode = 3;

    /// <summary>The SHA-256 of an empty body: the payload hash S3 wants on a signed GET. Sent as a header so that every
    /// curl that signs (7.75 on) signs the same value.</summary>
    private const string EmptyPayloadSha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    private static Dictionary<string, object> Parameter(string description, string pattern, string? defaultValue)
    {
        var p = new Dictionary<string, object> { ["type"] = "String", ["description"] = description, ["allowedPattern"] = pattern };
        if (defaultValue != null) p["default"] = defaultValue;
        return p;
    }

    private static string[] Script(BackupSettings settings) =>
    [
        "set -eu",
        .. Install(settings.AgentPath),
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

    /// <summary>
    /// Installs the published binary at <paramref name="agentPath"/> unless the file there already has its SHA-256.
    /// Only curl (7.75 or later, for --aws-sigv4) and coreutils are needed on the box. The credentials are the
    /// environment's when set (a local run), otherwise the instance role's from IMDSv2; they reach curl on its
    /// standard input, never on a command line. Every failure prints one line saying why and exits
    /// <see cref="InstallFailedExitCode"/>.
    /// </summary>
    private static string[] Install(string agentPath) => $$$"""
        agent='{{{agentPath}}}' want='{{AgentSha256}}' url='{{AgentUrl}}'
        fail() { echo "backup-agent install: $*" >&2; exit {{{InstallFailedExitCode}}}; }
        if [ ! -f "$agent" ] || [ "$(sha256sum "$agent" | cut -d ' ' -f 1)" != "$want" ]; then
          curl --help all 2>/dev/null | grep -q -- --aws-sigv4 || fail "curl 7.75 or later is needed to download $url; install it, or put the binary with SHA-256 $want at $agent"
          if [ -z "${AWS_ACCESS_KEY_ID:-}" ]; then
            imds=${AWS_EC2_METADATA_SERVICE_ENDPOINT:-http://169.254.169.254}; imds=${imds%/}
            t=$(curl -fsS -m 5 -X PUT --data-binary '' -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "$imds/latest/api/token") \
              && role=$(curl -fsS -m 5 -H "X-aws-ec2-metadata-token: $t" "$imds/latest/meta-data/iam/security-credentials/") \
              && creds=$(curl -fsS -m 5 -H "X-aws-ec2-metadata-token: $t" "$imds/latest/meta-data/iam/security-credentials/$role") \
              || fail "no instance role credentials from the instance metadata service (is an instance profile attached?)"
            field() { printf '%s\n' "$creds" | sed -n "s/.*\"$1\" *: *\"\([^\"]*\)\".*/\1/p"; }
            AWS_ACCESS_KEY_ID=$(field AccessKeyId) AWS_SECRET_ACCESS_KEY=$(field SecretAccessKey) AWS_SESSION_TOKEN=$(field Token)
          fi
          tmp=$(mktemp "$agent.XXXXXX") || fail "cannot create a file beside $agent"
          trap 'rm -f "$tmp"' EXIT
          { printf 'user = "%s:%s"\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY"
            [ -z "${AWS_SESSION_TOKEN:-}" ] || printf 'header = "x-amz-security-token: %s"\n' "$AWS_SESSION_TOKEN"; } \
            | curl -fsS --retry 3 -K - --aws-sigv4 'aws:amz:{{AgentRegion}}:s3' -H 'x-amz-content-sha256: {{{EmptyPayloadSha256}}}' -o "$tmp" "$url" \
            || fail "could not download $url"
          got=$(sha256sum "$tmp" | cut -d ' ' -f 1)
          [ "$got" = "$want" ] || fail "$url has SHA-256 $got, not the $want this document was deployed with; refusing to install it"
          chmod 0755 "$tmp" && mv -f "$tmp" "$agent" || fail "cannot move the new binary to $agent"
          trap - EXIT
          echo "backup-agent install: installed $want from $url at $agent"
        fi
        """.Split('\n');
}
