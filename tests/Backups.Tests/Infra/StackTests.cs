using Xunit;
using System.Text.Json.Nodes;
using Amazon.CDK.Assertions;
using Backups.Infra.Agent;
using Backups.Functions.Repositories;
using Backups.Infra.Workflow;

namespace Backups.Tests.Infra;

/// <summary>CDK assertions over the synthesized template: each resource and property the design asks for.</summary>
[Collection("cdk")]
public sealed class StackTests(SynthesizedStack stack) : IClassFixture<SynthesizedStack>
{
    private Template Template => stack.Template;

    [Fact]
    public void Nightly_rule_starts_the_workflow_at_three_utc_with_the_scheduled_input()
    {
        var rule = Assert.Single(stack.Resources("AWS::Events::Rule")).Properties;
        Assert.Equal("cron(0 3 * * ? *)", (string?)rule["ScheduleExpression"]);
        Assert.Equal("ENABLED", (string?)rule["State"]);
        var target = Assert.Single(rule["Targets"]!.AsArray())!;
        Assert.Equal(StateMachineId(), (string?)target["Arn"]!["Ref"]);
        var input = JsonNode.Parse((string)target["Input"]!)!;
        Assert.Equal("schedule", (string?)input["trigger"]);
        Assert.False((bool)input["skipRetention"]!);
        Assert.Empty(input["sources"]!.AsArray());
    }

    [Fact]
    public void Every_bucket_is_private_encrypted_and_refuses_plain_http()
    {
        var buckets = stack.Resources("AWS::S3::Bucket").ToList();
        Assert.Equal(["acme-assets", "acme-backups", "acme-releases"], buckets.Select(b => (string)b.Properties["BucketName"]!).Order());
        foreach (var (id, bucket) in buckets)
        {
            var block = bucket["PublicAccessBlockConfiguration"]!;
            foreach (var flag in new[] { "BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets" })
                Assert.True((bool)block[flag]!, $"{id}: {flag}");
            Assert.Equal("AES256", (string?)bucket["BucketEncryption"]!["ServerSideEncryptionConfiguration"]![0]!["ServerSideEncryptionByDefault"]!["SSEAlgorithm"]);

            var policy = stack.Resources("AWS::S3::BucketPolicy").Single(p => (string?)p.Properties["Bucket"]!["Ref"] == id).Properties;
            var deny = policy["PolicyDocument"]!["Statement"]!.AsArray().Single(s => (string?)s!["Effect"] == "Deny" && s["Sid"] == null)!;
            Assert.Equal("s3:*", (string?)deny["Action"]);
            Assert.Equal("false", (string?)deny["Condition"]!["Bool"]!["aws:SecureTransport"]);
        }
    }

    [Fact]
    public void Backup_bucket_locks_versions_and_expires_only_deleted_ones_and_releases_expire_old_versions_after_30_days()
    {
        var backups = Bucket("acme-backups");
        Assert.Equal("Enabled", (string?)backups["VersioningConfiguration"]!["Status"]);
        Assert.True((bool)backups["ObjectLockEnabled"]!);
        var retention = backups["ObjectLockConfiguration"]!["Rule"]!["DefaultRetention"]!;
        Assert.Equal("GOVERNANCE", (string?)retention["Mode"]);
        Assert.Equal(14, (int)retention["Days"]!);
        // Only noncurrent versions (deleted or replaced objects) and bare delete markers expire; current objects
        // are the repository's business.
        var lifecycle = backups["LifecycleConfiguration"]!["Rules"]!.AsArray().Single(r => (string?)r!["Id"] == "expire-deleted-versions")!;
        Assert.Equal(14, (int)lifecycle["NoncurrentVersionExpiration"]!["NoncurrentDays"]!);
        Assert.True((bool)lifecycle["ExpiredObjectDeleteMarker"]!);
        Assert.Equal("Enabled", (string?)lifecycle["Status"]);
        Assert.Null(lifecycle["ExpirationInDays"]);
        Assert.Null(lifecycle["Prefix"]);

        var releases = Bucket("acme-releases");
        Assert.Equal("Enabled", (string?)releases["VersioningConfiguration"]!["Status"]);
        var rule = Assert.Single(releases["LifecycleConfiguration"]!["Rules"]!.AsArray())!;
        Assert.Equal(30, (int)rule["NoncurrentVersionExpiration"]!["NoncurrentDays"]!);
        Assert.Equal("Enabled", (string?)rule["Status"]);
        Assert.Null(releases["ObjectLockEnabled"]);

        Assert.Null(Bucket("acme-assets")["LifecycleConfiguration"]);
        Assert.Null(Bucket("acme-assets")["WebsiteConfiguration"]);
    }

    [Fact]
    public void Backup_bucket_policy_refuses_sse_c_replacing_puts_and_writes_and_deletes_outside_each_roles_folders()
    {
        var instance = RoleId("Instance");
        var retention = RoleId("FunctionsRetention");
        var statements = BucketPolicy("acme-backups").Where(s => s["Sid"] != null).ToDictionary(s => (string)s["Sid"]!);
        Assert.All(statements.Values, s => Assert.Equal("Deny", (string?)s["Effect"]));

        var sseC = statements["DenySseC"];
        Assert.Equal("*", (string?)sseC["Principal"]!["AWS"]);
        Assert.Equal("s3:PutObject", (string?)sseC["Action"]);
        Assert.Equal("false", (string?)sseC["Condition"]!["Null"]!["s3:x-amz-server-side-encryption-customer-algorithm"]);

        var replacing = statements["DenyPutsThatMayReplace"];
        Assert.Equal(new[] { instance, retention }.Order(), Principals(replacing).Order());
        Assert.Equal("s3:PutObject", (string?)replacing["Action"]);
        Assert.Equal("true", (string?)replacing["Condition"]!["Null"]!["s3:if-none-match"]);

        var writes = statements["DenyInstanceWritesOutsideRepositoryFolders"];
        Assert.Equal([instance], Principals(writes));
        Assert.Equal("s3:PutObject", (string?)writes["Action"]);
        Assert.Equal(["data", "index", "locks", "snapshots"], Folders(writes["NotResource"]!));

        var deletes = statements["DenyInstanceDeletesOutsideLocks"];
        Assert.Equal([instance], Principals(deletes));
        Assert.Equal(["locks"], Folders(deletes["NotResource"]!));

        var retentionDeletes = statements["DenyRetentionDeletesOutsideRepositoryFolders"];
        Assert.Equal([retention], Principals(retentionDeletes));
        Assert.Equal("s3:DeleteObject", (string?)retentionDeletes["Action"]);
        Assert.Equal(["data", "index", "locks", "snapshots"], Folders(retentionDeletes["NotResource"]!));

        var versions = statements["DenyVersionAndRetentionChanges"];
        Assert.Equal(new[] { instance, retention }.Order(), Principals(versions).Order());
        Assert.Equal(["s3:BypassGovernanceRetention", "s3:DeleteObjectVersion", "s3:PutObjectLegalHold", "s3:PutObjectRetention"], Actions(versions).Order());
    }

    [Fact]
    public void Only_the_retention_function_deletes_repository_files_and_nobody_here_writes_config_or_keys()
    {
        // The box's read of the published agent binary is the one grant outside it (DeploymentStackTests).
        var s3 = Statements().Where(x => Actions(x.Statement).Any(a => a.StartsWith("s3:")) && (string?)x.Statement["Effect"] == "Allow"
            && !Resources(x.Statement).Any(r => r.Contains("cdk-hnb659fds-assets"))).ToList();
        var deleters = s3.Where(x => Actions(x.Statement).Contains("s3:DeleteObject")).ToList();
        foreach (var (owner, s) in deleters)
        {
            var folders = Folders(s["Resource"]!);
            if (owner.StartsWith("FunctionsRetention")) Assert.Equal(["data", "index", "locks", "snapshots"], folders);
            else if (owner.StartsWith("FunctionsNotify")) Assert.Equal(["status"], folders); // the run history it keeps
            else Assert.Equal(["locks"], folders); // the box and Verify remove their own lock files
        }
        Assert.Contains(deleters, d => d.Owner.StartsWith("FunctionsRetention"));
        Assert.Contains(deleters, d => d.Owner.StartsWith("Instance"));
        Assert.Contains(deleters, d => d.Owner.StartsWith("FunctionsNotify"));
        foreach (var (owner, s) in s3.Where(x => Actions(x.Statement).Contains("s3:PutObject")))
            Assert.DoesNotContain(Folders(s["Resource"]!), f => f is "keys" or "config" or "*");
        Assert.DoesNotContain(s3, x => Actions(x.Statement).Any(a => a is "s3:DeleteObjectVersion" or "s3:BypassGovernanceRetention" or "s3:PutObjectRetention"));
    }

    [Fact]
    public void The_instance_has_the_ssm_agents_actions_on_itself_instead_of_the_managed_core_policy()
    {
        var role = stack.Resources("AWS::IAM::Role").Single(r => r.Id.StartsWith("InstanceRole")).Properties;
        Assert.Null(role["ManagedPolicyArns"]);
        var ssm = Statements().Where(x => x.Owner.StartsWith("Instance") && Actions(x.Statement).Any(a => a.StartsWith("ec2messages:"))).Select(x => x.Statement);
        var agent = Assert.Single(ssm);
        Assert.Equal(AgentInstanceRole.SsmAgentActions.Order(), Actions(agent).Order());
        Assert.DoesNotContain(Actions(agent), a => a is "ssm:GetParameter" or "ssm:GetParameters" or "ssm:GetParametersByPath" || a.EndsWith('*'));
        Assert.EndsWith(":instance/i-0123456789abcdef0\"]]}", agent["Condition"]!["StringEquals"]!["ec2:SourceInstanceARN"]!.ToJsonString());
        // Every other SSM action of the box reads a named parameter or takes its task token (tested above).
        var others = Statements().Where(x => x.Owner.StartsWith("Instance") && x.Statement != agent).SelectMany(x => Actions(x.Statement)).Where(a => a.StartsWith("ssm"));
        Assert.All(others, a => Assert.Contains(a, new[] { "ssm:GetParameter", "ssm:DeleteParameter" }));
    }

    [Fact]
    public void No_iam_statement_allows_every_action_of_anything()
    {
        var statements = Statements().ToList();
        Assert.NotEmpty(statements);
        foreach (var (owner, s) in statements)
            foreach (var action in Actions(s))
                Assert.False(action == "*" || action.EndsWith(":*") && (string?)s["Effect"] == "Allow", $"{owner} allows {action}");
    }

    [Fact]
    public void S3_access_is_scoped_to_the_repository_folder_of_the_backup_bucket()
    {
        var backups = BucketId("acme-backups");
        // The box's read of the published agent binary is the one grant outside it (DeploymentStackTests).
        var s3 = Statements().Where(x => Actions(x.Statement).Any(a => a.StartsWith("s3:")) && (string?)x.Statement["Effect"] == "Allow"
            && !Resources(x.Statement).Any(r => r.Contains("cdk-hnb659fds-assets"))).ToList();
        Assert.NotEmpty(s3);
        foreach (var (owner, s) in s3)
        {
            var resources = Resources(s);
            Assert.All(resources, r => Assert.Contains(backups, r));
            if (Actions(s).SequenceEqual(["s3:ListBucket"]))
                Assert.Equal(["restic", "restic/*"], s["Condition"]!["StringLike"]!["s3:prefix"]!.AsArray().Select(p => (string)p!));
            else
                Assert.All(resources, r => Assert.Contains("/restic/", r));
        }

        // The box writes but deletes only lock files: a compromised box cannot remove backups.
        var instance = s3.Where(x => x.Owner.StartsWith("Instance")).Select(x => x.Statement).ToList();
        var delete = instance.Single(s => Actions(s).Contains("s3:DeleteObject"));
        Assert.EndsWith("/restic/locks/*\"]]}", Assert.Single(Resources(delete)));
    }

    [Fact]
    public void Ssm_parameters_are_read_by_name_and_commands_go_only_to_the_named_instance_and_document()
    {
        var reads = Statements().Where(x => Actions(x.Statement).Contains("ssm:GetParameter")).ToList();
        Assert.NotEmpty(reads);
        var named = new[] { "/backups/repository-password", "/backups/postgres-password", "/backups/redis-password", "/backups/webhook-url" };
        foreach (var (owner, s) in reads.Where(r => !Actions(r.Statement).Contains("ssm:DeleteParameter")))
            Assert.All(Resources(s), r => Assert.Contains(named, n => r.EndsWith(":parameter" + n + "\"]]}")));
        var instanceReads = reads.Where(r => r.Owner.StartsWith("Instance") && !Actions(r.Statement).Contains("ssm:DeleteParameter"))
            .SelectMany(r => Resources(r.Statement)).ToList();
        Assert.Equal(3, instanceReads.Count);
        Assert.DoesNotContain(instanceReads, r => r.Contains("webhook-url"));

        var send = Statements().Single(x => Actions(x.Statement).Contains("ssm:SendCommand")).Statement;
        var targets = Resources(send);
        Assert.Equal(2, targets.Count);
        Assert.Contains(targets, t => t.EndsWith(":instance/i-0123456789abcdef0\"]]}"));
        Assert.Contains(targets, t => t.Contains(":document/") && t.Contains(DocumentId()));
    }

    [Fact]
    public void The_instance_may_answer_only_the_workflows_task()
    {
        var (owner, s) = Statements().Single(x => Actions(x.Statement).Any(a => a.StartsWith("states:SendTask")));
        Assert.StartsWith("Instance", owner);
        Assert.Equal(["states:SendTaskFailure", "states:SendTaskHeartbeat", "states:SendTaskSuccess"], Actions(s).Order());
        Assert.Equal(StateMachineId(), (string?)s["Resource"]!["Ref"]);
        var profile = Assert.Single(stack.Resources("AWS::IAM::InstanceProfile")).Properties;
        Assert.Single(profile["Roles"]!.AsArray());
    }

    [Fact]
    public void Functions_run_on_provided_al2023_arm64_with_their_own_handler_and_log_group()
    {
        var functions = stack.Resources("AWS::Lambda::Function").ToList();
        Assert.Equal(["freshness", "notify", "offsite", "retention", "verify", "verifyMerge", "verifyPlan"], functions.Select(f => (string)f.Properties["Handler"]!).Order(StringComparer.Ordinal));
        foreach (var (id, f) in functions)
        {
            Assert.Equal("provided.al2023", (string?)f["Runtime"]);
            Assert.Equal(["arm64"], f["Architectures"]!.AsArray().Select(a => (string)a!));
            var logGroup = (string)f["LoggingConfig"]!["LogGroup"]!["Ref"]!;
            Assert.Equal(90, (int)stack.Json["Resources"]![logGroup]!["Properties"]!["RetentionInDays"]!);
            var variables = f["Environment"]!["Variables"]!;
            Assert.Equal("/backups/repository-password", (string?)variables[FunctionRepository.PasswordSsmVariable]);
            Assert.Matches(@"^\{""Fn::Join"":\[""""\,\[""s3:s3\.""", variables[Backups.Core.Settings.ResticEnvironment.Repository]!.ToJsonString());
            Assert.EndsWith(@"""/restic""]]}", variables[Backups.Core.Settings.ResticEnvironment.Repository]!.ToJsonString());
            Assert.Equal("api-box", (string?)variables["BACKUP_HOST"]);
        }
        var notify = functions.Single(f => (string?)f.Properties["Handler"] == "notify").Properties;
        var notifyVariables = notify["Environment"]!["Variables"]!;
        Assert.Equal("backups@acme.test", (string?)notifyVariables["NOTIFY_SENDER"]);
        Assert.Equal("ops@acme.test,dev@acme.test", (string?)notifyVariables["NOTIFY_RECIPIENTS"]);
        Assert.Equal("/backups/webhook-url", (string?)notifyVariables["NOTIFY_WEBHOOK_URL_SSM_PARAMETER"]);
        Assert.Equal("/backups/postgres-password,/backups/redis-password", (string?)notifyVariables["NOTIFY_REDACT_SSM_PARAMETERS"]);
        var ses = Statements().Single(x => Actions(x.Statement).Contains("ses:SendEmail"));
        Assert.StartsWith("FunctionsNotify", ses.Owner);
    }

    [Fact]
    public void Verify_fans_out_as_configured_and_only_its_readers_touch_the_repository()
    {
        var functions = stack.Resources("AWS::Lambda::Function").ToDictionary(f => (string)f.Properties["Handler"]!, f => f);
        var plan = functions["verifyPlan"].Properties["Environment"]!["Variables"]!;
        Assert.Equal((32L << 30).ToString(System.Globalization.CultureInfo.InvariantCulture), (string?)plan["VERIFY_SLICE_BYTES"]);
        Assert.Equal("5", (string?)plan["VERIFY_MAX_CONCURRENCY"]);
        foreach (var reader in new[] { "verifyPlan", "verify" })
        {
            var role = (string)functions[reader].Properties["Role"]!["Fn::GetAtt"]![0]!;
            var grants = stack.Resources("AWS::IAM::Policy").Where(p => p.Properties["Roles"]!.AsArray().Any(r => (string?)r!["Ref"] == role))
                .SelectMany(p => p.Properties["PolicyDocument"]!["Statement"]!.AsArray()).SelectMany(st => Actions(st!.AsObject())).ToHashSet();
            Assert.Superset(new HashSet<string> { "s3:GetObject", "s3:ListBucket", "s3:PutObject", "s3:DeleteObject", "ssm:GetParameter" }, grants);
        }
        // Adding up the slices' results needs no access to anything.
        var mergeRole = (string)functions["verifyMerge"].Properties["Role"]!["Fn::GetAtt"]![0]!;
        Assert.DoesNotContain(stack.Resources("AWS::IAM::Policy"), p => p.Properties["Roles"]!.AsArray().Any(r => (string?)r!["Ref"] == mergeRole));
        // The workflow may invoke all three.
        var invoked = Statements().Where(x => x.Owner.StartsWith("WorkflowStateMachine") && Actions(x.Statement).Contains("lambda:InvokeFunction"))
            .SelectMany(x => Resources(x.Statement)).ToList();
        foreach (var id in new[] { "verifyPlan", "verify", "verifyMerge" }.Select(h => functions[h].Id))
            Assert.Contains(invoked, r => r.Contains($"\"{id}\""));
    }

    [Fact]
    public void Agent_document_names_the_token_parameter_in_the_agents_environment_and_restricts_every_parameter()
    {
        var document = Assert.Single(stack.Resources("AWS::SSM::Document")).Properties;
        Assert.Equal("Command", (string?)document["DocumentType"]);
        var content = document["Content"]!;
        foreach (var (name, p) in content["parameters"]!.AsObject())
            Assert.True(((string?)p!["allowedPattern"])?.StartsWith('^') == true || p["allowedValues"] is JsonArray { Count: > 0 }, $"{name} is not restricted");
        Assert.Equal(AgentCommand.Actions, content["parameters"]!["Action"]!["allowedValues"]!.AsArray().Select(v => (string)v!));
        // The token itself is no command parameter: only the name of the SecureString the agent reads and deletes.
        Assert.Null(content["parameters"]!["TaskToken"]);
        Assert.Equal(AgentCommand.TokenParameterPattern, (string?)content["parameters"]!["TokenParameter"]!["allowedPattern"]);
        Assert.Matches(AgentCommand.TokenParameterPattern, $"{AgentCommand.TokenParameterPath}/{Guid.NewGuid()}");
        var script = content["mainSteps"]![0]!["inputs"]!["runCommand"]!.AsArray().Select(l => (string)l!).ToList();
        Assert.Contains("export BACKUP_AGENT_TASK_TOKEN_PARAMETER='{{TokenParameter}}'", script);
        Assert.DoesNotContain(script, l => l.Contains("TASK_TOKEN='"));
        Assert.DoesNotContain(script, l => l.Contains("set -x"));
        Assert.Equal("exec '/usr/local/bin/backup-agent' \"$@\" --config '/etc/backup-agent/config.json'", script[^1]);
    }

    [Fact]
    public void Only_the_workflow_writes_token_parameters_and_only_the_instance_reads_and_deletes_them()
    {
        var tokens = Statements().Where(x => Resources(x.Statement).Any(r => r.Contains(":parameter/backups/task-tokens/*"))).ToList();
        var write = Assert.Single(tokens, x => Actions(x.Statement).Contains("ssm:PutParameter"));
        Assert.StartsWith("WorkflowStateMachine", write.Owner);
        Assert.Equal(["ssm:PutParameter"], Actions(write.Statement));
        var take = Assert.Single(tokens, x => Actions(x.Statement).Contains("ssm:GetParameter"));
        Assert.StartsWith("Instance", take.Owner);
        Assert.Equal(["ssm:DeleteParameter", "ssm:GetParameter"], Actions(take.Statement).Order());
        Assert.Equal(2, tokens.Count);
    }

    [Fact]
    public void Alarms_watch_failed_timed_out_and_aborted_executions_and_a_missing_success_for_26_hours()
    {
        var alarms = stack.Resources("AWS::CloudWatch::Alarm").Select(a => a.Properties).ToList();
        Assert.Equal(["ExecutionsAborted", "ExecutionsFailed", "ExecutionsSucceeded", "ExecutionsTimedOut"], alarms.Select(a => (string)a["MetricName"]!).Order());
        var topic = Assert.Single(stack.Resources("AWS::SNS::Topic")).Id;
        foreach (var a in alarms)
        {
            Assert.Equal("AWS/States", (string?)a["Namespace"]);
            Assert.Equal(StateMachineId(), (string?)a["Dimensions"]![0]!["Value"]!["Ref"]);
            Assert.Equal(topic, (string?)Assert.Single(a["AlarmActions"]!.AsArray())!["Ref"]);
        }
        var stale = alarms.Single(a => (string?)a["MetricName"] == "ExecutionsSucceeded");
        Assert.Equal(26 * 3600, (int)stale["Period"]! * (int)stale["EvaluationPeriods"]!);
        Assert.Equal("LessThanThreshold", (string?)stale["ComparisonOperator"]);
        Assert.Equal("breaching", (string?)stale["TreatMissingData"]);
        Assert.Equal(["dev@acme.test", "ops@acme.test"], stack.Resources("AWS::SNS::Subscription").Select(s => (string)s.Properties["Endpoint"]!).Order());
    }

    [Fact]
    public void Sender_identity_is_the_configured_address()
    {
        var identity = Assert.Single(stack.Resources("AWS::SES::EmailIdentity")).Properties;
        Assert.Equal("backups@acme.test", (string?)identity["EmailIdentity"]);
    }

    [Fact]
    public void Bad_context_stops_the_synth_with_one_line_naming_the_key()
    {
        var context = new Dictionary<string, object>(SynthesizedStack.Context) { ["instanceId"] = "web-1" };
        var app = new Amazon.CDK.App(new Amazon.CDK.AppProps { Context = context });
        var e = Assert.Throws<Backups.Infra.SettingsException>(() => Backups.Infra.BackupSettings.FromContext(app.Node));
        Assert.Contains("'instanceId'", e.Message);
        Assert.DoesNotContain('\n', e.Message);

        context.Remove("instanceId");
        app = new Amazon.CDK.App(new Amazon.CDK.AppProps { Context = context });
        Assert.Contains("'instanceId' is required", Assert.Throws<Backups.Infra.SettingsException>(() => Backups.Infra.BackupSettings.FromContext(app.Node)).Message);
    }

    /// <summary>The principal of a bucket policy statement, as role ids.</summary>
    private static List<string> Principals(JsonObject s) => s["Principal"]!["AWS"] switch
    {
        JsonArray a => a.Select(p => (string)p!["Fn::GetAtt"]![0]!).ToList(),
        JsonNode n => [(string)n["Fn::GetAtt"]![0]!],
        null => [],
    };

    /// <summary>The repository folders a statement's object resources name ("*" for the whole repository).</summary>
    private static List<string> Folders(JsonNode resources) =>
        (resources is JsonArray a ? a.Select(r => r!.ToJsonString()) : [resources.ToJsonString()])
        .Select(r => System.Text.RegularExpressions.Regex.Match(r, @"/restic/([^/""]+)").Groups[1].Value.TrimEnd('*').TrimEnd('/'))
        .Select(f => f.Length == 0 ? "*" : f).Order().ToList();

    private IEnumerable<JsonObject> BucketPolicy(string bucket) =>
        stack.Resources("AWS::S3::BucketPolicy").Single(p => (string?)p.Properties["Bucket"]!["Ref"] == BucketId(bucket))
            .Properties["PolicyDocument"]!["Statement"]!.AsArray().Select(s => s!.AsObject());

    private string RoleId(string prefix) => stack.Resources("AWS::IAM::Role").Single(r => r.Id.StartsWith(prefix)).Id;

    private JsonObject Bucket(string name) => stack.Resources("AWS::S3::Bucket").Single(b => (string?)b.Properties["BucketName"] == name).Properties;
    private string BucketId(string name) => stack.Resources("AWS::S3::Bucket").Single(b => (string?)b.Properties["BucketName"] == name).Id;
    private string StateMachineId() => Assert.Single(stack.Resources("AWS::StepFunctions::StateMachine")).Id;
    private string DocumentId() => Assert.Single(stack.Resources("AWS::SSM::Document")).Id;

    /// <summary>Every statement of every identity policy (inline or managed), named by the policy's resource id.</summary>
    private IEnumerable<(string Owner, JsonObject Statement)> Statements() =>
        stack.Resources("AWS::IAM::Policy").Concat(stack.Resources("AWS::IAM::ManagedPolicy")).SelectMany(p =>
            p.Properties["PolicyDocument"]!["Statement"]!.AsArray().Select(s => (p.Id, s!.AsObject())));

    private static List<string> Actions(JsonObject s) => s["Action"] switch
    {
        JsonArray a => a.Select(x => (string)x!).ToList(),
        JsonNode n => [(string)n!],
        null => [],
    };

    /// <summary>Resources as text: CloudFormation functions flattened, so a test can look for names in them.</summary>
    private static List<string> Resources(JsonObject s) => s["Resource"] switch
    {
        JsonArray a => a.Select(x => x!.ToJsonString()).ToList(),
        JsonNode n => [n.ToJsonString()],
        null => [],
    };
}
