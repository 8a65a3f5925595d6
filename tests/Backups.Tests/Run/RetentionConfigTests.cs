using System.Text.Json;
using System.Text.Json.Nodes;
using BackupAgent.Run;
using Backups.Core.Retention;
using Backups.Functions.Contracts;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Run;

/// <summary>
/// Per-source retention in the run config: each source may carry restic's keep rules (snake_case), `keep: all`,
/// counts as "unlimited" or -1; tags such as pre-deploy their own policy; the run's result carries them to the
/// workflow, where the Retention function's input reads them unchanged.
/// </summary>
public sealed class RetentionConfigTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    private string Config(string sources, string extra = "") => $$"""
        { "repository": "{{_dir.Combine("repo")}}", "password": { "value": "{{Repositories.Password}}" }, {{extra}}
          "sources": [ {{sources}} ] }
        """;

    private const string ThreeSources = """
        { "name": "app-db", "kind": "command", "command": ["echo", "db"], "retention": { "keep_daily": 30, "keep_monthly": "unlimited" } },
        { "name": "logs", "kind": "command", "command": ["echo", "logs"], "retention": { "keep": "all" } },
        { "name": "cache", "kind": "command", "command": ["echo", "cache"] }
        """;

    private RunConfig Load(string json)
    {
        var path = _dir.Combine(Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, json);
        return RunConfig.Load(path);
    }

    [Fact]
    public void Sources_carry_their_own_policies_and_pre_deploy_has_one_by_default()
    {
        var policies = Load(Config(ThreeSources)).RetentionPolicies();

        Assert.Equal(["app-db", "logs"], policies.Sources.Keys.Order());
        Assert.Equal(new RetentionPolicy { Daily = 30, Monthly = RetentionPolicy.Unlimited }, policies.Sources["app-db"] with { KeepTags = [] });
        Assert.Equal("keep 30 daily, all monthly snapshots", policies.Sources["app-db"].ToString());
        Assert.Equal(RetentionPolicy.KeepAll, policies.Sources["logs"]);
        Assert.Equal("keep all snapshots within 90d of the newest", Assert.Single(policies.Tags, t => t.Key == "pre-deploy").Value.ToString());
    }

    [Fact]
    public void Tag_policies_are_configurable_and_can_be_turned_off()
    {
        var own = Load(Config(ThreeSources, """ "tag_retention": { "pre-deploy": { "keep_within": "30d" }, "release": { "keep_last": -1 } }, """)).RetentionPolicies();
        Assert.Equal(["pre-deploy", "release"], own.Tags.Keys.Order());
        Assert.Equal("keep all snapshots within 30d of the newest", own.Tags["pre-deploy"].ToString());
        Assert.Equal(RetentionPolicy.KeepAll, own.Tags["release"]);

        Assert.Empty(Load(Config(ThreeSources, """ "tag_retention": { }, """)).RetentionPolicies().Tags);
    }

    [Theory]
    [InlineData("""{ "name": "a", "kind": "command", "command": ["true"], "retention": { } }""", "", "$.sources[0].retention", "set at least one keep rule")]
    [InlineData("""{ "name": "a", "kind": "command", "command": ["true"], "retention": { "keep_daily": "often" } }""", "", "$.sources[0].retention", "keep_daily needs a whole number or 'unlimited'")]
    [InlineData("""{ "name": "a", "kind": "command", "command": ["true"], "retention": { "keep_weekly": -3 } }""", "", "$.sources[0].retention", "keep_weekly must be 0 or more")]
    [InlineData("""{ "name": "a", "kind": "command", "command": ["true"], "retention": { "keep": "some" } }""", "", "$.sources[0].retention", "keep: the only value is \"all\"")]
    [InlineData("""{ "name": "a", "kind": "command", "command": ["true"], "retention": "all" }""", "", "$.sources[0].retention", "an object of keep rules")]
    [InlineData("""{ "name": "a", "kind": "command", "command": ["true"] }""", """ "tag_retention": { "pre-deploy": { } }, """, "$.tag_retention.pre-deploy", "set at least one keep rule")]
    [InlineData("""{ "name": "a", "kind": "command", "command": ["true"] }""", """ "tag_retention": { "a,b": { "keep_last": 1 } }, """, "$.tag_retention", "'a,b' is not a tag")]
    public void A_bad_policy_is_a_config_error_naming_the_field(string source, string extra, string path, string message)
    {
        var e = Assert.Throws<ConfigException>(() => Load(Config(source, extra)));
        Assert.Equal(path, e.Path);
        Assert.Contains(message, e.Message);
        Assert.Single(e.Message.Split('\n'));
    }

    [Fact]
    public async Task The_runs_result_carries_the_policies_into_the_Retention_functions_input()
    {
        var config = _dir.Combine("config.json");
        await File.WriteAllTextAsync(config, Config(ThreeSources));
        var agent = new Agent(_dir.Combine("repo"), Repositories.Password);
        await agent.RunOkAsync("init");

        var result = JsonNode.Parse((await agent.RunOkAsync("--json", "run", "--config", config)).StdoutText)!;

        // The workflow passes the result's retention as it is ("sourcePolicies.$": "$.backup.retention").
        var retention = result["retention"]!;
        Assert.Equal("unlimited", (string?)retention["sources"]!["app-db"]!["keep_monthly"]);
        var input = JsonSerializer.Deserialize($$"""{ "policy": { "keepDaily": 7 }, "sourcePolicies": {{retention.ToJsonString()}} }""",
            FunctionJson.Default.RetentionInput)!;
        var expected = Load(Config(ThreeSources)).RetentionPolicies();
        Assert.Equal(expected.Sources.Keys.Order(), input.SourcePolicies!.Sources.Keys.Order());
        foreach (var (name, policy) in expected.Sources) Assert.Equal(policy.ToString(), input.SourcePolicies.Sources[name].ToString());
        Assert.Equal(expected.Tags["pre-deploy"].ToString(), input.SourcePolicies.Tags["pre-deploy"].ToString());
    }
}
