using System.Text.Json.Nodes;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Workflow;

/// <summary>
/// The Offsite step in the real workflow, run locally: the night's snapshots copied from the repository in one
/// s3rver bucket to an offsite repository in another, its result under its own key, and a failure emailed like any
/// step's.
/// </summary>
[Collection("cdk")]
public sealed class OffsiteWorkflowTests(WorkflowStack stack) : IClassFixture<WorkflowStack>
{
    private const string OffsiteBucket = "offsite-test", OffsitePassword = "another password for the offsite copy";

    private static string[] States(JsonObject report) => [.. report["states"]!.AsArray().Select(s => (string)s!)];

    private static JsonObject Input(object extra) => JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(extra))!.AsObject();

    /// <summary>A new repository in the second bucket (init creates the bucket), with a password of its own.</summary>
    private async Task<string> NewOffsiteAsync()
    {
        var offsite = stack.S3.NewRepository(OffsiteBucket);
        await new Agent(offsite, OffsitePassword, stack.S3.CaCertPath, new Dictionary<string, string>(stack.S3.Env)).RunOkAsync("init");
        return offsite;
    }

    private Restic OffsiteRestic(string offsite) => new(offsite, OffsitePassword, stack.S3.CaCertPath, new Dictionary<string, string>(stack.S3.Env));

    [Fact]
    public async Task The_offsite_step_copies_the_nights_snapshots_to_the_second_bucket_and_a_second_run_only_the_new_ones()
    {
        var repository = await stack.NewRepositoryAsync();
        var offsite = await NewOffsiteAsync();
        var environment = new Dictionary<string, string> { ["OFFSITE_REPOSITORY"] = offsite, ["OFFSITE_PASSWORD"] = OffsitePassword };

        var report = await stack.ExecuteAsync(Input(new { drill = "skip", skipRetention = true, offsite = "now" }), repository, environment);

        Assert.True((string?)report["status"] == "SUCCEEDED", report.ToJsonString());
        Assert.Equal(["Freshness", "OffsiteWanted", "Offsite", "OffsiteComplete", "DrillWanted", "NotifySuccess", "Done"], States(report)[^7..]);
        var result = report["output"]!["offsite"]!;
        Assert.True((bool)result["copied"]!, result.ToJsonString());
        Assert.Equal(2, (int)result["snapshotsCopied"]!);
        Assert.True((bool)result["complete"]!);
        Assert.Equal(offsite, (string?)result["destination"]);

        // The copies name the repository's snapshots as their originals, and restic finds the offsite repository sound.
        var sources = (await stack.Restic(repository).JsonAsync("snapshots")).EnumerateArray().Select(s => s.GetProperty("id").GetString()).Order().ToList();
        var copies = (await OffsiteRestic(offsite).JsonAsync("snapshots")).EnumerateArray().Select(s => s.GetProperty("original").GetString()).Order().ToList();
        Assert.Equal(sources, copies);
        await OffsiteRestic(offsite).CheckAsync(readData: true);

        // The next night copies the new night's snapshots only; by default ("when-due") the cadence decides.
        var next = await stack.ExecuteAsync(Input(new { drill = "skip", skipRetention = true, offsite = "now" }), repository, environment);
        Assert.True((string?)next["status"] == "SUCCEEDED", next.ToJsonString());
        Assert.Equal(2, (int)next["output"]!["offsite"]!["snapshotsCopied"]!);
        Assert.Equal(2, (int)next["output"]!["offsite"]!["snapshotsAlreadyThere"]!);
        var never = await stack.ExecuteAsync(Input(new { drill = "skip", skipRetention = true }), repository,
            new Dictionary<string, string>(environment) { ["OFFSITE_CADENCE"] = "never" });
        Assert.False((bool)never["output"]!["offsite"]!["copied"]!);
        Assert.Equal("OFFSITE_CADENCE is never", (string?)never["output"]!["offsite"]!["skipped"]);
        Assert.Equal(4, (await OffsiteRestic(offsite).JsonAsync("snapshots")).GetArrayLength());
    }

    [Fact]
    public async Task A_failed_offsite_copy_fails_the_execution_and_the_email_names_the_step()
    {
        var repository = await stack.NewRepositoryAsync();
        var offsite = await NewOffsiteAsync();

        var report = await stack.ExecuteAsync(Input(new { drill = "skip", skipRetention = true, offsite = "now" }), repository,
            new Dictionary<string, string> { ["OFFSITE_REPOSITORY"] = offsite, ["OFFSITE_PASSWORD"] = "not the offsite password" });

        Assert.Equal("FAILED", (string?)report["status"]);
        Assert.Equal("Backups.WrongPassword", (string?)report["error"]);
        Assert.Equal(["Freshness", "OffsiteWanted", "Offsite", "OffsiteFailed", "NotifyFailure", "Failed"], States(report)[^6..]);
        var emails = await stack.Ses.StoredEmailsAsync();
        var email = emails.LastOrDefault(e => ((string)e!["subject"]!).Contains($"Offsite on {WorkflowStack.Host}"));
        Assert.NotNull(email);
        Assert.Contains("Error: Backups.WrongPassword", (string)email["body"]!["text"]!);
        Assert.DoesNotContain("not the offsite password", email.ToJsonString());
    }
}
