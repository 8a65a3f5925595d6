using Xunit;
using System.Text.Json.Nodes;
using Amazon.CDK;
using Amazon.CDK.Assertions;
using Backups.Infra;

namespace Backups.Tests.Infra;

/// <summary>The stack synthesized once, in process, with the context a deployment would give.</summary>
public sealed class SynthesizedStack
{
    public static readonly Dictionary<string, object> Context = new()
    {
        ["instanceId"] = "i-0123456789abcdef0",
        ["hostName"] = "api-box",
        ["backupBucket"] = "acme-backups",
        ["releasesBucket"] = "acme-releases",
        ["assetsBucket"] = "acme-assets",
        ["repositoryPrefix"] = "restic",
        ["passwordParameter"] = "/backups/repository-password",
        ["agentParameters"] = "/backups/postgres-password,/backups/redis-password",
        ["webhookParameter"] = "/backups/webhook-url",
        ["notifyFrom"] = "backups@acme.test",
        ["notifyTo"] = "ops@acme.test,dev@acme.test",
        ["agentConfigPath"] = "/etc/backup-agent/config.json",
        ["agentPath"] = "/usr/local/bin/backup-agent",
        ["functionsPath"] = FunctionsStub(),
        ["agentBinary"] = AgentStub(),
        ["logRetentionDays"] = "90",
        ["objectLockDays"] = "14",
        ["verifySliceGiB"] = "32",
        ["verifyMaxConcurrency"] = "5",
    };

    public BackupStack Stack { get; }
    public Template Template { get; }
    /// <summary>The template as JSON, for questions the assertion helpers cannot ask.</summary>
    public JsonObject Json { get; }

    public SynthesizedStack() : this(Context)
    {
    }

    private SynthesizedStack(Dictionary<string, object> context)
    {
        var app = new App(new AppProps { Context = context });
        Stack = new BackupStack(app, "Backups", BackupSettings.FromContext(app.Node));
        Template = Template.FromStack(Stack);
        Json = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(Template.ToJSON()))!.AsObject();
    }

    /// <summary>The stack with some context values changed; a null value removes the key.</summary>
    public static SynthesizedStack With(Dictionary<string, object?> changes)
    {
        var context = new Dictionary<string, object>(Context);
        foreach (var (key, value) in changes)
            if (value == null) context.Remove(key);
            else context[key] = value;
        return new SynthesizedStack(context);
    }

    public IEnumerable<(string Id, JsonObject Properties)> Resources(string type) =>
        Json["Resources"]!.AsObject()
            .Where(r => (string?)r.Value!["Type"] == type)
            .Select(r => (r.Key, r.Value!["Properties"]!.AsObject()));

    /// <summary>A folder with a `bootstrap`, standing in for functions/build.sh's output.</summary>
    private static string FunctionsStub()
    {
        var dir = Path.Combine(Path.GetTempPath(), "backups-infra-functions-stub");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "bootstrap"), "#!/bin/sh\n");
        return dir;
    }

    /// <summary>The bytes the stand-in for agent/build.sh's output holds, for checksum assertions.</summary>
    public const string AgentStubContent = "#!/bin/sh\necho backup-agent stand-in\n";

    /// <summary>A file standing in for agent/build.sh's output.</summary>
    private static string AgentStub()
    {
        var file = Path.Combine(Path.GetTempPath(), "backups-infra-agent-stub", "backup-agent");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, AgentStubContent);
        return file;
    }
}

/// <summary>
/// The tests that start CDK's jsii runtime in this process run one after another: two fixtures loading the CDK
/// library into it at once fail ("zlib: unexpected end of file").
/// </summary>
[CollectionDefinition("cdk")]
public sealed class CdkCollection;
