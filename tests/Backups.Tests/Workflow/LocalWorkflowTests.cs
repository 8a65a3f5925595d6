using System.Text.Json.Nodes;
using Backups.Core.Backends;
using Backups.Infra.Workflow;
using Backups.Tests.Pitr;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Workflow;

/// <summary>
/// The real workflow definition, executed by aws-local-stepfunctions with StartBackup and StartDrill bound to the
/// agent's SSM document (its script run as SSM would, backup-agent reporting through the Step Functions protocol)
/// and the Lambda steps bound to the functions' bootstrap through a local Runtime API; real PostgreSQL, Redis,
/// S3 (s3rver) and SES (aws-ses-v2-local).
/// </summary>
[Collection("cdk")]
public sealed class LocalWorkflowTests(WorkflowStack stack) : IClassFixture<WorkflowStack>
{
    private static string[] States(JsonObject report) => [.. report["states"]!.AsArray().Select(s => (string)s!)];

    private static JsonObject Input(object extra) =>
        JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(extra))!.AsObject();

    /// <summary>The latest email whose subject has <paramref name="subjectPart"/> (the tests share one SES).</summary>
    private async Task<JsonObject> EmailAsync(string subjectPart)
    {
        var emails = await stack.Ses.StoredEmailsAsync();
        return Assert.IsType<JsonObject>(emails.LastOrDefault(e => ((string)e!["subject"]!).Contains(subjectPart)), exactMatch: false);
    }

    [Fact]
    public async Task A_scheduled_run_backs_up_verifies_applies_retention_checks_freshness_drills_and_reports_every_step()
    {
        var repository = await stack.NewRepositoryAsync();
        var input = Input(BackupWorkflow.ScheduledInput);
        input["drill"] = "now";

        var report = await stack.ExecuteAsync(input, repository);

        Assert.True((string?)report["status"] == "SUCCEEDED", report.ToJsonString());
        Assert.Equal(["Defaults", "Options", "LaunchBackup", "StartBackup", "VerifyPlan", "VerifySlices", "VerifyMerge", "RetentionWanted", "Retention", "Freshness", "OffsiteWanted", "Offsite", "OffsiteComplete", "DrillWanted", "LaunchDrill", "StartDrill", "NotifySuccess", "Done"], States(report));
        var output = report["output"]!;
        Assert.True((bool)output["backup"]!["succeeded"]!);
        Assert.Equal(2, (int)output["verify"]!["snapshots"]!);
        Assert.Equal(2, output["retention"]!["kept"]!.AsArray().Count);
        Assert.Empty(output["retention"]!["removed"]!.AsArray());
        Assert.True((bool)output["freshness"]!["allFresh"]!);
        Assert.True((bool)output["drill"]!["passed"]!, output["drill"]!.ToJsonString());
        Assert.Equal(["app-db", "cache"], output["drill"]!["sources"]!.AsArray().Select(s => (string)s!["name"]!));
        Assert.True((bool)output["notify"]!["sent"]!);
        // Both task tokens reached the agent through one-time SecureStrings, which it deleted after reading.
        Assert.Equal(0, (int)report["tokenParametersLeft"]!);

        // Stock restic sees both snapshots, each tagged with its source, and a sound repository.
        var restic = stack.Restic(repository);
        var snapshots = (await restic.JsonAsync("snapshots")).EnumerateArray().ToList();
        Assert.Equal(["app-db", "cache"], snapshots.Select(s => s.GetProperty("tags")[0].GetString()).Order());
        await restic.CheckAsync(readData: true);
        var summary = await EmailAsync((string)output["notify"]!["subject"]!);
        Assert.Contains(WorkflowStack.Recipient, summary["destination"]!["to"]!.ToJsonString());

        // Notify recorded the run from the agent's own results, and that the month's summary went out.
        await using var repo = await Backups.Core.Repositories.Repository.OpenAsync(RepositoryLocation.Open(repository, stack.S3.Options()), WorkflowStack.RepositoryPassword);
        var history = await Backups.Core.Reporting.RunHistoryStore.LoadAsync(repo, default);
        var run = Assert.Single(history!.Runs);
        Assert.True(run.Succeeded);
        Assert.Equal(["app-db", "cache"], run.Sources.Select(s => s.Source).Order());
        Assert.All(run.Sources, s => Assert.True(s is { Succeeded: true, DurationSeconds: > 0, BytesAdded: > 0 }, s.ToString()));
        Assert.NotNull(history.SummaryOf(WorkflowStack.Host, run.Started));
    }

    [Fact]
    public async Task Retention_applies_each_sources_own_policy_from_the_agents_config()
    {
        var repository = await stack.NewRepositoryAsync(retention: new Dictionary<string, string>
        {
            ["app-db"] = """{ "keep_last": 1 }""", ["cache"] = """{ "keep": "all" }""",
        });
        // Two earlier nights: with the global policy (keepDaily 7) each source would keep one snapshot of today's three.
        var agent = new Agent(repository, WorkflowStack.RepositoryPassword, stack.S3.CaCertPath, stack.AgentEnvironment);
        for (var night = 0; night < 2; night++) await agent.RunOkAsync("run", "--config", stack.ConfigPath);

        var report = await stack.ExecuteAsync(Input(new { drill = "skip" }), repository);

        Assert.True((string?)report["status"] == "SUCCEEDED", report.ToJsonString());
        var retention = report["output"]!["retention"]!;
        Assert.Equal(2, retention["removed"]!.AsArray().Count);
        Assert.Contains("keep 1 latest snapshots", retention["scopes"]!.ToJsonString());
        var snapshots = (await stack.Restic(repository).JsonAsync("snapshots")).EnumerateArray().ToList();
        Assert.Equal(["app-db", "cache", "cache", "cache"], snapshots.Select(s => s.GetProperty("tags")[0].GetString()).Order());
        Assert.Equal(retention["kept"]!.AsArray().Select(id => (string)id!).Order(), snapshots.Select(s => s.GetProperty("id").GetString()).Order());
    }

    [Fact]
    public async Task A_paths_source_that_cannot_read_a_file_succeeds_with_warnings_and_the_email_lists_them()
    {
        var files = stack.NewDirectory();
        File.WriteAllText(Path.Combine(files, "kept.txt"), "kept");
        // Reading this process's own memory at offset 0 fails with EIO, even for root: a file that cannot be read.
        var repository = await stack.NewRepositoryAsync(extraSource: $$"""
            { "name": "files", "kind": "paths", "paths": ["{{files}}", "/proc/self/mem"] }
            """);

        var report = await stack.ExecuteAsync(Input(BackupWorkflow.ScheduledInput), repository);

        Assert.True((string?)report["status"] == "SUCCEEDED", report.ToJsonString());
        // The later steps still ran: the warnings do not fail the night.
        Assert.Equal(["Defaults", "Options", "LaunchBackup", "StartBackup", "VerifyPlan", "VerifySlices", "VerifyMerge", "RetentionWanted", "Retention", "Freshness"], States(report)[..10]);
        Assert.Equal(["NotifySuccess", "Done"], States(report)[^2..]);
        var source = report["output"]!["backup"]!["sources"]!.AsArray().Single(s => (string)s!["name"]! == "files")!;
        Assert.True((bool)source["succeeded"]!);
        Assert.Contains("/proc/self/mem", source["warnings"]!.ToJsonString());
        var email = await EmailAsync($"Backups done with warnings: {WorkflowStack.Host}");
        Assert.Contains("cannot read /proc/self/mem", (string)email["body"]!["text"]!);
        var snapshots = (await stack.Restic(repository).JsonAsync("snapshots")).EnumerateArray().ToList();
        Assert.Contains("files", snapshots.Select(s => s.GetProperty("tags")[0].GetString()));
    }

    [Fact]
    public async Task A_failing_pg_dump_fails_StartBackup_and_the_email_names_the_step_and_the_error()
    {
        var repository = await stack.NewRepositoryAsync(database: "no_such_database");

        var report = await stack.ExecuteAsync(Input(BackupWorkflow.ScheduledInput), repository);

        Assert.Equal("FAILED", (string?)report["status"]);
        Assert.Equal("BackupAgent.SourcesFailed", (string?)report["error"]);
        Assert.Equal(["Defaults", "Options", "LaunchBackup", "StartBackup", "BackupFailed", "NotifyFailure", "Failed"], States(report));
        var email = await EmailAsync($"StartBackup on {WorkflowStack.Host}");
        var body = (string)email["body"]!["text"]!;
        Assert.Contains("Error: BackupAgent.SourcesFailed", body);
        Assert.Contains("Sources affected: app-db", body);
        Assert.Matches("  app-db: pg_dump exited with status 1: .*database \"no_such_database\" does not exist", body);
        foreach (var secret in new[] { WorkflowStack.RepositoryPassword, WorkflowStack.RedisPassword, stack.Postgres.Password })
            Assert.DoesNotContain(secret, email.ToJsonString());
        // The other source still finished: its snapshot is there, and no snapshot for the failed one.
        var snapshots = (await stack.Restic(repository).JsonAsync("snapshots")).EnumerateArray().ToList();
        Assert.Equal(["cache"], snapshots.Select(s => s.GetProperty("tags")[0].GetString()));
    }

    /// <summary>
    /// Last night's backup and six more small ones (each ends with a data pack and a tree pack of its own) in a new
    /// repository, so that Verify has packs to spread over slices; returns the repository and its packs.
    /// </summary>
    private async Task<(string Repository, List<(string Name, long Size)> Packs)> RepositoryOfManyPacksAsync()
    {
        var repository = await stack.NewRepositoryAsync();
        var agent = new Agent(repository, WorkflowStack.RepositoryPassword, stack.S3.CaCertPath, stack.AgentEnvironment);
        await agent.RunOkAsync("run", "--config", stack.ConfigPath);
        for (var i = 0; i < 6; i++)
        {
            using var data = new TestData(TestData.Kind.Random, 200_000, seed: i);
            (await agent.RunAsync(["backup", "--stdin", "--stdin-filename", $"part-{i}.bin"], stdin: data)).EnsureSuccess("backup --stdin");
        }
        return (repository, await PacksAsync(repository));
    }

    private async Task<List<(string Name, long Size)>> PacksAsync(string repository)
    {
        await using var backend = RepositoryLocation.Open(repository, stack.S3.Options());
        var packs = new List<(string Name, long Size)>();
        await foreach (var pack in backend.ListAsync(FileKind.Pack)) packs.Add(pack);
        return packs;
    }

    /// <summary>A slice budget that splits <paramref name="bytes"/> into about <paramref name="slices"/> slices.</summary>
    private static Dictionary<string, string> SlicesOf(long bytes, int slices) =>
        new() { ["VERIFY_SLICE_BYTES"] = (bytes / slices + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), ["VERIFY_MAX_CONCURRENCY"] = "2" };

    [Fact]
    public async Task A_repository_larger_than_one_slice_is_verified_by_several_invocations_whose_results_are_merged()
    {
        var (repository, before) = await RepositoryOfManyPacksAsync();

        var report = await stack.ExecuteAsync(Input(new { sources = new[] { "cache" }, deepVerify = true, skipRetention = true, drill = "skip" }),
            repository, SlicesOf(before.Sum(p => p.Size), 4));

        Assert.True((string?)report["status"] == "SUCCEEDED", report.ToJsonString());
        Assert.Equal(["Defaults", "Options", "LaunchBackup", "StartBackup", "VerifyPlan", "VerifySlices", "VerifyMerge", "RetentionWanted", "Freshness", "OffsiteWanted", "Offsite", "OffsiteComplete", "DrillWanted", "NotifySuccess", "Done"], States(report));
        var packs = await PacksAsync(repository);
        var verify = report["output"]!["verify"]!;
        var slices = verify["slices"]!.AsArray();
        // The night's own backup added a little: four slices of the budget, or five.
        Assert.InRange(slices.Count, 4, 5);
        Assert.Equal(slices.Count, (int)report["iterations"]!["VerifySlice"]!);
        // Never more slices at once than VERIFY_MAX_CONCURRENCY allows.
        Assert.Equal(2, (int)report["peakInFlight"]!["verify"]!);
        Assert.Equal(Enumerable.Range(1, slices.Count).Select(n => $"slice {n} of {slices.Count}"), slices.Select(s => (string)s!["selection"]!));
        // Together the slices read every pack once, and the totals are their sums.
        Assert.Equal(packs.Count, (int)verify["packs"]!);
        Assert.Equal(packs.Count, (int)verify["packsRead"]!);
        Assert.Equal(packs.Count, slices.Sum(s => (int)s!["packsRead"]!));
        Assert.Equal(packs.Sum(p => p.Size), (long)verify["bytesRead"]!);
        Assert.Equal(packs.Sum(p => p.Size), slices.Sum(s => (long)s!["bytesRead"]!));
        Assert.Equal(0, (int)verify["packsLeft"]!);
        Assert.Equal(9, (int)verify["snapshots"]!);
        Assert.Equal("all packs", (string?)verify["selection"]);
        // The plan's working data does not stay in the execution's output: one key holds the merged result.
        Assert.Null(verify["parts"]);
        Assert.Null(verify["results"]);
    }

    [Fact]
    public async Task A_damaged_pack_in_one_slice_fails_Verify_and_the_email_names_the_pack()
    {
        var (repository, packs) = await RepositoryOfManyPacksAsync();
        // A bit flipped in the largest pack (database data) in the store: only reading its slice finds it.
        await using (var backend = RepositoryLocation.Open(repository, stack.S3.Options()))
        {
            var (name, _) = packs.MaxBy(p => p.Size);
            var bytes = await backend.LoadAsync(new FileHandle(FileKind.Pack, name));
            bytes[bytes.Length / 2] ^= 0x01;
            await backend.SaveAsync(new FileHandle(FileKind.Pack, name), bytes);
        }

        var report = await stack.ExecuteAsync(Input(new { sources = new[] { "cache" }, deepVerify = true, drill = "skip" }),
            repository, SlicesOf(packs.Sum(p => p.Size), 4));

        Assert.Equal("FAILED", (string?)report["status"]);
        Assert.Equal("Backups.RepositoryDamaged", (string?)report["error"]);
        Assert.Equal(["Defaults", "Options", "LaunchBackup", "StartBackup", "VerifyPlan", "VerifySlices", "VerifyFailed", "NotifyFailure", "Failed"], States(report));
        Assert.True((int)report["iterations"]!["VerifySlice"]! >= 2, report.ToJsonString());
        var damaged = packs.MaxBy(p => p.Size).Name;
        Assert.Contains(damaged, (string?)report["cause"]);
        var body = (string)(await EmailAsync($"Verify on {WorkflowStack.Host}"))["body"]!["text"]!;
        Assert.Contains("Error: Backups.RepositoryDamaged", body);
        Assert.Contains(damaged, body);
    }

    [Fact]
    public async Task A_failed_drill_fails_the_execution_and_the_email_names_the_check()
    {
        var repository = await stack.NewRepositoryAsync(drill: """
            { "checks": [ { "name": "no accounts yet", "sql": "SELECT count(*) FROM pgbench_accounts", "max": 0 } ] }
            """);

        var report = await stack.ExecuteAsync(Input(new { skipRetention = true, drill = "now" }), repository);

        Assert.Equal("FAILED", (string?)report["status"]);
        Assert.Equal("BackupAgent.DrillFailed", (string?)report["error"]);
        Assert.Equal(["Defaults", "Options", "LaunchBackup", "StartBackup", "VerifyPlan", "VerifySlices", "VerifyMerge", "RetentionWanted", "Freshness", "OffsiteWanted", "Offsite", "OffsiteComplete", "DrillWanted", "LaunchDrill", "StartDrill", "DrillFailed", "NotifyFailure", "Failed"], States(report));
        var body = (string)(await EmailAsync($"StartDrill on {WorkflowStack.Host}"))["body"]!["text"]!;
        Assert.Contains("Error: BackupAgent.DrillFailed", body);
        Assert.Contains("Sources affected: app-db", body);
        Assert.Contains("no accounts yet", body);
    }

    [Fact]
    public async Task A_pitr_drill_passes_and_when_the_newest_wal_is_lost_fails_the_execution_and_the_email_names_the_segment()
    {
        await using var cluster = await ArchivingCluster.StartAsync(""", "database": "app" """, stack.S3.NewRepository(), stack.S3.Env,
            stack.S3.CaCertPath, WorkflowStack.RepositoryPassword);
        await cluster.Pg.CreateDatabaseAsync("app");
        await cluster.Pg.ExecAsync("app", "CREATE TABLE orders (id int); INSERT INTO orders SELECT generate_series(1, 100)");
        var repository = await stack.NewRepositoryAsync(extraSource: cluster.SourceJson, initialized: cluster.Repository);
        var input = Input(new { sources = new[] { "cluster" }, skipRetention = true, drill = "now" });

        // The night's base backup and facts, and a drill that recovers to them through the archived WAL.
        var good = await stack.ExecuteAsync(input, repository, agentEnvironment: cluster.Environment);
        Assert.True((string?)good["status"] == "SUCCEEDED", good.ToJsonString() + cluster.ArchiverLog);
        var drill = good["output"]!["drill"]!;
        Assert.True((bool)drill["passed"]!, drill.ToJsonString());
        Assert.Contains(drill["sources"]![0]!["checks"]!.AsArray(), c => (string)c!["name"]! == "rows public.orders" && (string?)c["actual"] == "100");

        // The archiver goes down and the newest WAL batch is lost. Nothing is archived after it, so the chain that
        // Verify checks stays whole, one batch shorter (a hole between archived segments is Verify's to find,
        // before any drill runs), and Freshness sees a WAL file younger than the RPO: only the drill, which must
        // replay to the next night's facts, finds the segments gone.
        cluster.KillArchiver();
        var restic = stack.Restic(repository);
        var newest = (await restic.JsonAsync("snapshots", "--tag", "wal")).EnumerateArray().Last().GetProperty("id").GetString()!;
        var lost = (await restic.RunOkAsync("ls", newest)).StdoutText.Split('\n').Where(l => l.Length == 25 && l[0] == '/').Select(l => l[1..]).Min()!;
        await using (var backend = RepositoryLocation.Open(repository, stack.S3.Options()))
            await backend.RemoveAsync(new FileHandle(FileKind.Snapshot, newest), default);

        var report = await stack.ExecuteAsync(input, repository, agentEnvironment: cluster.Environment);

        Assert.Equal("FAILED", (string?)report["status"]);
        Assert.Equal("BackupAgent.DrillFailed", (string?)report["error"]);
        Assert.Equal(["Defaults", "Options", "LaunchBackup", "StartBackup", "VerifyPlan", "VerifySlices", "VerifyMerge", "RetentionWanted", "Freshness", "OffsiteWanted", "Offsite", "OffsiteComplete", "DrillWanted", "LaunchDrill", "StartDrill", "DrillFailed", "NotifyFailure", "Failed"], States(report));
        var body = (string)(await EmailAsync($"StartDrill on {WorkflowStack.Host}"))["body"]!["text"]!;
        Assert.Contains("Error: BackupAgent.DrillFailed", body);
        Assert.Contains("Sources affected: cluster", body);
        Assert.Matches($"  cluster: recovery: .* is after the newest archived WAL of cluster .*WAL segment {lost} is missing", body);
        Assert.DoesNotContain(WorkflowStack.RepositoryPassword, body);
        Assert.DoesNotContain(cluster.Pg.Password, body);
    }

    [Fact]
    public async Task A_manual_pre_deploy_run_tags_its_snapshots_and_skips_retention()
    {
        var repository = await stack.NewRepositoryAsync();

        var report = await stack.ExecuteAsync(Input(new { trigger = "manual", tags = new[] { "pre-deploy" }, skipRetention = true, drill = "skip" }), repository);

        Assert.True((string?)report["status"] == "SUCCEEDED", report.ToJsonString());
        Assert.Equal(["Defaults", "Options", "LaunchBackup", "StartBackup", "VerifyPlan", "VerifySlices", "VerifyMerge", "RetentionWanted", "Freshness", "OffsiteWanted", "Offsite", "OffsiteComplete", "DrillWanted", "NotifySuccess", "Done"], States(report));
        Assert.Null(report["output"]!["retention"]);
        var tagged = (await stack.Restic(repository).JsonAsync("snapshots", "--tag", "pre-deploy")).EnumerateArray().ToList();
        Assert.Equal(["app-db", "cache"], tagged.Select(s => s.GetProperty("tags")[0].GetString()).Order());
    }
}
