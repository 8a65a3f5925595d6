using System.Text.Json;
using Backups.Core.Repositories;
using Backups.Core.Retention;
using Backups.Functions.Contracts;
using Xunit;

namespace Backups.Tests.Retention;

/// <summary>
/// The policy contract: the Retention function's input reads every --keep-* rule of restic (camelCase, and the
/// agent's snake_case), counts as numbers, -1 or "unlimited", `keep: all`; bad rules are named.
/// </summary>
public sealed class RetentionPolicyJsonTests
{
    private static RetentionPolicy Input(string policyJson) =>
        JsonSerializer.Deserialize($$"""{ "policy": {{policyJson}} }""", FunctionJson.Default.RetentionInput)!.Policy;

    private static RetentionDuration D(string s) => RetentionDuration.Parse(s);

    public static TheoryData<string, RetentionPolicy> Rules => new()
    {
        { """{ "keepWithin": "1y2m" }""", new() { Within = D("1y2m") } },
        { """{ "keepWithinHourly": "3d" }""", new() { WithinHourly = D("3d") } },
        { """{ "keepWithinDaily": "2m" }""", new() { WithinDaily = D("2m") } },
        { """{ "keepWithinWeekly": "6m" }""", new() { WithinWeekly = D("6m") } },
        { """{ "keepWithinMonthly": "2y" }""", new() { WithinMonthly = D("2y") } },
        { """{ "keepWithinYearly": "10y" }""", new() { WithinYearly = D("10y") } },
        { """{ "keep_within_daily": "5d4h" }""", new() { WithinDaily = D("5d4h") } },
        { """{ "keepLast": 3, "keepHourly": 24, "keepDaily": 7, "keepWeekly": 4, "keepMonthly": 12, "keepYearly": 5 }""",
            new() { Last = 3, Hourly = 24, Daily = 7, Weekly = 4, Monthly = 12, Yearly = 5 } },
        { """{ "keep_last": "3", "keep_monthly": 0 }""", new() { Last = 3 } },
        { """{ "keepMonthly": -1, "keepYearly": "unlimited", "keepDaily": "-1" }""",
            new() { Monthly = RetentionPolicy.Unlimited, Yearly = RetentionPolicy.Unlimited, Daily = RetentionPolicy.Unlimited } },
        { """{ "keep": "all" }""", RetentionPolicy.KeepAll },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void Every_rule_is_read(string json, RetentionPolicy expected)
    {
        var policy = Input(json);
        Assert.Equal(expected.ToString(), policy.ToString());
        Assert.Equal(expected with { KeepTags = [] }, policy with { KeepTags = [] });
    }

    [Fact]
    public void Every_rule_of_the_table_has_its_member_and_round_trips_in_both_namings()
    {
        var policy = new RetentionPolicy
        {
            Last = 2, Hourly = RetentionPolicy.Unlimited, Daily = 7, Weekly = 4, Monthly = RetentionPolicy.Unlimited, Yearly = 3,
            Within = D("1d"), WithinHourly = D("2d"), WithinDaily = D("3d"), WithinWeekly = D("4d"), WithinMonthly = D("5d"), WithinYearly = D("6d"),
            KeepTags = [TagList.Parse("a,b"), TagList.Parse("manual")],
        };
        foreach (var naming in new[] { JsonNamingPolicy.CamelCase, JsonNamingPolicy.SnakeCaseLower })
        {
            var options = new JsonSerializerOptions { PropertyNamingPolicy = naming };
            var json = JsonSerializer.Serialize(policy, options);
            foreach (var rule in RetentionRule.All) Assert.Contains($"\"{naming.ConvertName(rule.Member)}\"", json);
            var back = Input(json);
            Assert.Equal(policy.ToString(), back.ToString());
            Assert.Equal(policy.KeepTags, back.KeepTags, (a, b) => a.Tags.SequenceEqual(b.Tags));
        }
        Assert.Equal("""{"keepMonthly":"unlimited","keepWithinDaily":"3d"}""",
            JsonSerializer.Serialize(new RetentionPolicy { Monthly = RetentionPolicy.Unlimited, WithinDaily = D("3d") }, new JsonSerializerOptions()));
    }

    [Theory]
    [InlineData("""{ "keepLast": -2 }""", "keepLast must be 0 or more, or unlimited (-1), not -2")]
    [InlineData("""{ "keepDaily": "many" }""", "keepDaily needs a whole number or 'unlimited', not 'many'")]
    [InlineData("""{ "keepDaily": 1.5 }""", "keepDaily needs a whole number")]
    [InlineData("""{ "keepWithinWeekly": "2w" }""", "keepWithinWeekly: invalid duration '2w'")]
    [InlineData("""{ "keepWithinYearly": 2 }""", "keepWithinYearly: a duration")]
    [InlineData("""{ "keepWithin": "-3d" }""", "negative")]
    [InlineData("""{ "keepTags": "a" }""", "keepTags: a list")]
    [InlineData("""{ "keep_daily": 1, "keepDaily": 2 }""", "given twice")]
    [InlineData("""{ "keep": "everything" }""", "keep: the only value is \"all\"")]
    [InlineData("""{ "keep": "all", "keepDaily": 3 }""", "leave out the other rules")]
    [InlineData("""{ "keepWithinFortnightly": "1y" }""", "unknown keep rule 'keepWithinFortnightly'")]
    [InlineData("""[ 7 ]""", "an object of keep rules")]
    public void A_bad_rule_is_named(string json, string message)
    {
        var e = Assert.Throws<JsonException>(() => Input(json));
        Assert.Contains(message, e.Message);
        Assert.Equal("$.policy", e.Path);
    }

    [Fact]
    public void The_forget_flags_read_the_same_rules()
    {
        var text = RetentionRule.All.Single(r => r.Flag == "keep-within-weekly").Apply(new RetentionPolicy(), "3m", "--keep-within-weekly");
        Assert.Equal(D("3m"), text.WithinWeekly);
        var e = Assert.Throws<RepositoryException>(() => RetentionRule.All[0].Apply(new RetentionPolicy(), "x", "--keep-last"));
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.StartsWith("--keep-last needs a whole number", e.Message);
    }
}
