using System.Text.Json.Nodes;
using Amazon.CDK;
using Amazon.CDK.Assertions;
using Backups.Infra;
using Xunit;

namespace Backups.Tests.Infra;

/// <summary>CDK assertions for the offsite copy: the second bucket, the role the copier assumes and what it may do.</summary>
[Collection("cdk")]
public sealed class OffsiteStackTests
{
    private static JsonObject Synthesize(Dictionary<string, object> extra)
    {
        var context = new Dictionary<string, object>(SynthesizedStack.Context);
        foreach (var (k, v) in extra) context[k] = v;
        var app = new App(new AppProps { Context = context });
        var template = Template.FromStack(new BackupStack(app, "Backups", BackupSettings.FromContext(app.Node)));
        return JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(template.ToJSON()))!.AsObject();
    }

    private static IEnumerable<(string Id, JsonObject Properties)> Resources(JsonObject template, string type) =>
        template["Resources"]!.AsObject().Where(r => (string?)r.Value!["Type"] == type).Select(r => (r.Key, r.Value!["Properties"]!.AsObject()));

    private static (string Id, JsonObject Properties) OffsiteFunction(JsonObject template) =>
        Resources(template, "AWS::Lambda::Function").Single(f => (string?)f.Properties["Handler"] == "offsite");

    private static List<JsonNode> Statements(JsonObject template, string roleId) =>
        [.. Resources(template, "AWS::IAM::Policy").Where(p => p.Properties["Roles"]!.AsArray().Any(r => (string?)r!["Ref"] == roleId))
            .SelectMany(p => p.Properties["PolicyDocument"]!["Statement"]!.AsArray()).Select(s => s!)];

    private static string[] Actions(JsonNode statement) =>
        statement["Action"] is JsonArray many ? [.. many.Select(a => (string)a!)] : [(string)statement["Action"]!];

    [Fact]
    public void An_offsite_bucket_gets_a_copier_role_that_only_the_offsite_function_assumes_and_that_may_only_add_files()
    {
        var template = Synthesize(new() { ["offsiteBucket"] = "acme-offsite" });
        var bucket = Resources(template, "AWS::S3::Bucket").Single(b => (string?)b.Properties["BucketName"] == "acme-offsite");
        Assert.Equal("Enabled", (string?)bucket.Properties["VersioningConfiguration"]!["Status"]);

        var (_, function) = OffsiteFunction(template);
        var functionRole = (string)function["Role"]!["Fn::GetAtt"]![0]!;
        var variables = function["Environment"]!["Variables"]!;
        Assert.Equal("weekly", (string?)variables["OFFSITE_CADENCE"]);
        Assert.Contains("/acme-offsite/restic", variables["OFFSITE_REPOSITORY"]!.ToJsonString());
        var copierId = (string)variables["OFFSITE_ROLE_ARN"]!["Fn::GetAtt"]![0]!;

        // Only the Offsite function's role may assume the copier role.
        var copier = Resources(template, "AWS::IAM::Role").Single(r => r.Id == copierId).Properties;
        var trust = Assert.Single(copier["AssumeRolePolicyDocument"]!["Statement"]!.AsArray())!;
        Assert.Equal("sts:AssumeRole", (string?)trust["Action"]);
        Assert.Equal(functionRole, (string?)trust["Principal"]!["AWS"]!["Fn::GetAtt"]![0]);
        var assume = Statements(template, functionRole).Single(s => Actions(s).Contains("sts:AssumeRole"));
        Assert.Equal(copierId, (string?)assume["Resource"]!["Fn::GetAtt"]![0]);

        // The copier lists and reads its folder, adds files to the four folders copy writes, removes only locks.
        var granted = Statements(template, copierId);
        Assert.Equal(["s3:DeleteObject", "s3:GetObject", "s3:ListBucket", "s3:PutObject"], granted.SelectMany(Actions).Distinct().Order());
        var deletes = Assert.Single(granted, s => Actions(s).Contains("s3:DeleteObject"));
        Assert.EndsWith("/restic/locks/*\"]]}", deletes["Resource"]!.ToJsonString());
        var puts = Assert.Single(granted, s => Actions(s).Contains("s3:PutObject"));
        Assert.Equal(4, puts["Resource"]!.AsArray().Count);
        Assert.DoesNotContain("config", puts.ToJsonString());
        Assert.DoesNotContain("keys", puts.ToJsonString());

        // The offsite bucket holds the copier to conditional writes and denies its deletes outside locks/ itself.
        var policy = Resources(template, "AWS::S3::BucketPolicy").Single(p => (string?)p.Properties["Bucket"]!["Ref"] == bucket.Id).Properties;
        var sids = policy["PolicyDocument"]!["Statement"]!.AsArray().Select(s => (string?)s!["Sid"]).ToList();
        Assert.Contains("DenyPutsThatMayReplace", sids);
        Assert.Contains("DenyInstanceDeletesOutsideLocks", sids);
        Assert.Contains("DenyVersionAndRetentionChanges", sids);
        Assert.DoesNotContain("DenyRetentionDeletesOutsideRepositoryFolders", sids);
    }

    [Fact]
    public void A_destination_in_another_account_is_reached_only_through_its_owners_role_and_no_bucket_is_made()
    {
        const string role = "arn:aws:iam::210987654321:role/offsite-writer";
        var template = Synthesize(new() { ["offsiteBucket"] = "acme-offsite-eu", ["offsiteRegion"] = "eu-central-1", ["offsiteRoleArn"] = role, ["offsiteCadence"] = "never" });

        Assert.DoesNotContain(Resources(template, "AWS::S3::Bucket"), b => (string?)b.Properties["BucketName"] == "acme-offsite-eu");
        var (_, function) = OffsiteFunction(template);
        var variables = function["Environment"]!["Variables"]!;
        Assert.Equal(role, (string?)variables["OFFSITE_ROLE_ARN"]);
        Assert.Equal("never", (string?)variables["OFFSITE_CADENCE"]);
        Assert.StartsWith("s3:s3.eu-central-1.", variables["OFFSITE_REPOSITORY"]!.ToJsonString().Trim('"', '{', '[').Split('"').First(p => p.StartsWith("s3:")));
        var assume = Statements(template, (string)function["Role"]!["Fn::GetAtt"]![0]!).Single(s => Actions(s).Contains("sts:AssumeRole"));
        Assert.Equal(role, (string?)assume["Resource"]);
    }

    [Fact]
    public void Without_an_offsite_bucket_the_step_has_no_destination_and_a_wrong_cadence_is_refused()
    {
        var template = Synthesize(new());
        var variables = OffsiteFunction(template).Properties["Environment"]!["Variables"]!.AsObject();
        Assert.False(variables.ContainsKey("OFFSITE_REPOSITORY"));
        Assert.False(variables.ContainsKey("OFFSITE_ROLE_ARN"));
        Assert.DoesNotContain(Resources(template, "AWS::IAM::Policy").SelectMany(p => p.Properties["PolicyDocument"]!["Statement"]!.AsArray()),
            s => Actions(s!).Contains("sts:AssumeRole"));

        var app = new App(new AppProps { Context = new Dictionary<string, object>(SynthesizedStack.Context) { ["offsiteCadence"] = "monthly" } });
        var e = Assert.Throws<SettingsException>(() => BackupSettings.FromContext(app.Node));
        Assert.Contains("offsiteCadence", e.Message);
    }
}
