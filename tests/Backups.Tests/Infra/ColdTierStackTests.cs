using System.Text.Json.Nodes;
using Amazon.CDK.Assertions;
using Backups.Core.Backends;
using Backups.Infra;
using Backups.Infra.Storage;
using Xunit;

namespace Backups.Tests.Infra;

/// <summary>
/// The backup bucket's lifecycle for the cold tier: data packs (selected by the tag the S3 backend puts on them,
/// under the repository's data/ folder) move to the configured class; nothing else moves and no current object
/// expires; noncurrent versions expire after the configured days, never before the lock period; the classes
/// restic cannot read without a restore are refused.
/// </summary>
[Collection("cdk")]
public sealed class ColdTierStackTests(SynthesizedStack stack) : IClassFixture<SynthesizedStack>
{
    [Fact]
    public void By_default_tagged_data_packs_move_to_glacier_ir_after_30_days_and_noncurrent_versions_expire_after_the_lock()
    {
        var rules = Rules(stack.Json);
        Assert.Equal(["data-packs-to-cold-storage", "expire-deleted-versions"], rules.Keys.Order());
        var cold = rules["data-packs-to-cold-storage"];
        Assert.Equal("Enabled", (string?)cold["Status"]);
        Assert.Equal("restic/data/", (string?)cold["Prefix"]);
        var tag = Assert.Single(cold["TagFilters"]!.AsArray())!;
        // The rule selects exactly what the backend writes.
        Assert.Equal(S3Backend.BlobTypeTagKey, (string?)tag["Key"]);
        Assert.Equal(S3Backend.DataPackTagValue, (string?)tag["Value"]);
        Assert.Equal(128 * 1024, (int)cold["ObjectSizeGreaterThan"]!);
        var transition = Assert.Single(cold["Transitions"]!.AsArray())!;
        Assert.Equal("GLACIER_IR", (string?)transition["StorageClass"]);
        Assert.Equal(30, (int)transition["TransitionInDays"]!);
        Assert.Null(cold["ExpirationInDays"]);
        Assert.Null(cold["NoncurrentVersionExpiration"]);
        Assert.Null(cold["NoncurrentVersionTransitions"]);

        var versions = rules["expire-deleted-versions"];
        Assert.Equal(14, (int)versions["NoncurrentVersionExpiration"]!["NoncurrentDays"]!);
        Assert.Null(versions["ExpirationInDays"]);
        Assert.Null(versions["Transitions"]);
    }

    [Fact]
    public void Class_days_and_noncurrent_expiry_follow_the_context_and_none_keeps_every_pack_in_standard()
    {
        var rules = Rules(Synth(new() { ["coldStorageClass"] = "standard_ia", ["coldAfterDays"] = "45", ["noncurrentVersionDays"] = "60" }));
        var transition = Assert.Single(rules["data-packs-to-cold-storage"]["Transitions"]!.AsArray())!;
        Assert.Equal("STANDARD_IA", (string?)transition["StorageClass"]);
        Assert.Equal(45, (int)transition["TransitionInDays"]!);
        Assert.Equal(60, (int)rules["expire-deleted-versions"]["NoncurrentVersionExpiration"]!["NoncurrentDays"]!);

        Assert.Equal(["expire-deleted-versions"], Rules(Synth(new() { ["coldStorageClass"] = "none" })).Keys);
    }

    [Fact]
    public void The_verification_cycle_that_decides_how_often_cold_packs_are_retrieved_reaches_verify_plan()
    {
        Assert.Equal("7", VerifyPlanVariable(stack.Json, "VERIFY_CYCLE_DAYS"));
        Assert.Equal("60", VerifyPlanVariable(Synth(new() { ["verifyCycleDays"] = "60" }), "VERIFY_CYCLE_DAYS"));
    }

    private static string? VerifyPlanVariable(JsonObject template, string name) =>
        (string?)template["Resources"]!.AsObject().Select(r => r.Value!.AsObject())
            .Single(r => (string?)r["Type"] == "AWS::Lambda::Function" && ((string?)r["Properties"]!["Description"])?.EndsWith(": verifyPlan") == true)
            ["Properties"]!["Environment"]!["Variables"]![name];

    [Theory]
    [InlineData("coldStorageClass", "GLACIER", "restored")]
    [InlineData("coldStorageClass", "DEEP_ARCHIVE", "restored")]
    [InlineData("coldStorageClass", "ONEZONE_IA", "is not one of GLACIER_IR, STANDARD_IA, NONE")]
    [InlineData("coldAfterDays", "-1", "whole number from 0")]
    [InlineData("noncurrentVersionDays", "7", "whole number from 14")]
    [InlineData("verifyCycleDays", "0", "whole number from 1")]
    public void Classes_that_need_a_restore_and_bad_days_stop_the_synth_with_one_line_naming_the_key(string key, string value, string reason)
    {
        var e = Assert.Throws<SettingsException>(() => Settings(new() { [key] = value }));
        Assert.Contains($"'{key}'", e.Message);
        Assert.Contains(reason, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Standard_ia_is_refused_before_30_days_as_s3_refuses_it()
    {
        var e = Assert.Throws<SettingsException>(() => Settings(new() { ["coldStorageClass"] = "STANDARD_IA", ["coldAfterDays"] = "10" }));
        Assert.Contains("'coldAfterDays'", e.Message);
        Assert.Equal(0, Settings(new() { ["coldAfterDays"] = "0" }).ColdAfterDays);
    }

    [Fact]
    public void Only_the_writers_of_data_packs_may_tag_and_only_under_data()
    {
        var taggers = stack.Resources("AWS::IAM::Policy").Concat(stack.Resources("AWS::IAM::ManagedPolicy"))
            .SelectMany(p => p.Properties["PolicyDocument"]!["Statement"]!.AsArray().Select(s => (p.Id, Statement: s!)))
            .Where(x => x.Statement["Action"]!.ToJsonString().Contains("s3:PutObjectTagging"))
            .ToList();
        Assert.Equal(["FunctionsRetention", "Instance"], taggers.Select(t => t.Id.StartsWith("Instance") ? "Instance" : t.Id[.."FunctionsRetention".Length]).Order());
        foreach (var (_, statement) in taggers)
        {
            Assert.Equal("s3:PutObjectTagging", (string?)statement["Action"]);
            Assert.EndsWith("/restic/data/*\"]]}", statement["Resource"]!.ToJsonString());
        }
    }

    private static Dictionary<string, JsonObject> Rules(JsonObject template) =>
        template["Resources"]!.AsObject().Select(r => r.Value!.AsObject())
            .Single(r => (string?)r["Type"] == "AWS::S3::Bucket" && (string?)r["Properties"]!["BucketName"] == "acme-backups")["Properties"]!
            ["LifecycleConfiguration"]!["Rules"]!.AsArray().ToDictionary(r => (string)r!["Id"]!, r => r!.AsObject());

    private static BackupSettings Settings(Dictionary<string, object> overrides) =>
        BackupSettings.FromContext(App(overrides).Node);

    private static Amazon.CDK.App App(Dictionary<string, object> overrides)
    {
        var context = new Dictionary<string, object>(SynthesizedStack.Context);
        foreach (var (k, v) in overrides) context[k] = v;
        return new Amazon.CDK.App(new Amazon.CDK.AppProps { Context = context });
    }

    private static JsonObject Synth(Dictionary<string, object> overrides)
    {
        var app = App(overrides);
        var template = Template.FromStack(new BackupStack(app, "Backups", BackupSettings.FromContext(app.Node)));
        return JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(template.ToJSON()))!.AsObject();
    }
}
