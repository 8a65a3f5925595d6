using System.Globalization;
using System.Text.Json;
using Backups.Core.Backends;
using Backups.Core.Reporting;
using Backups.Core.Repositories;
using Backups.Tests.Backends;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Cli;

/// <summary>
/// `status --json` against restic's own counts on the same repository: per source (first tag), the latest
/// snapshot's restore-size, the raw-data of all its snapshots (stored) and their restore-size (what the
/// deduplication ratio divides), each of the last 30 nights' growth as the raw-data difference restic gives for the
/// snapshots up to that night, and the storage estimate's classes split at the cold tier's age.
/// </summary>
public sealed class StatusCommandTests
{
    private const string Password = "status-password";

    [Fact]
    public async Task Status_figures_equal_restic_stats_in_raw_data_and_restore_size_modes()
    {
        using var dir = new TempDir();
        var repository = dir.Combine("repo");
        var agent = new Agent(repository, Password);
        var restic = new Restic(repository, Password);
        await agent.RunOkAsync("init");
        var now = DateTimeOffset.UtcNow;
        string Ago(int days) => now.AddDays(-days).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

        // A database dump that grows: each night keeps the previous content and appends new bytes.
        var dump = BackendContract.RandomBytes(12_000_000);
        foreach (var (days, extra) in new[] { (40, 0), (2, 1_000_000), (1, 1_000_000) })
        {
            dump = [.. dump, .. BackendContract.RandomBytes(extra)];
            (await agent.RunAsync(["backup", "--stdin", "--stdin-filename", "db.dump", "--tag", "db", "--tag", "pre-deploy", "--time", Ago(days)],
                stdin: new MemoryStream(dump))).EnsureSuccess("backup db");
        }
        var files = Directory.CreateDirectory(dir.Combine("files")).FullName;
        File.WriteAllBytes(Path.Combine(files, "a.bin"), BackendContract.RandomBytes(700_000));
        File.WriteAllBytes(Path.Combine(files, "copy.bin"), File.ReadAllBytes(Path.Combine(files, "a.bin")));
        await agent.RunOkAsync("backup", files, "--tag", "files", "--time", Ago(1));

        var run = await agent.RunOkAsync("status", "--json", "--cold-after-days", "30");
        var status = JsonDocument.Parse(run.StdoutText).RootElement;
        var sources = status.GetProperty("sources").EnumerateArray().ToDictionary(s => s.GetProperty("source").GetString()!);
        Assert.Equal(["db", "files"], sources.Keys.Order());

        var db = await SnapshotIdsAsync(restic, "db");
        Assert.Equal(3, db.Count);
        var dbStatus = sources["db"];
        Assert.Equal(db[^1], dbStatus.GetProperty("latest_snapshot").GetString());
        Assert.InRange(dbStatus.GetProperty("age_seconds").GetInt64(), 86_400 - 60, 86_400 + 600);
        Assert.Equal(await TotalAsync(restic, "restore-size", db[^1]), dbStatus.GetProperty("restore_size").GetInt64());
        Assert.Equal(dump.Length, dbStatus.GetProperty("restore_size").GetInt64());
        var stored = await TotalAsync(restic, "raw-data", "--tag", "db");
        var restorable = await TotalAsync(restic, "restore-size", "--tag", "db");
        Assert.Equal(stored, dbStatus.GetProperty("stored_size").GetInt64());
        Assert.Equal(restorable, dbStatus.GetProperty("restorable_size").GetInt64());
        Assert.Equal(Math.Round((double)restorable / stored, 3), dbStatus.GetProperty("dedup_ratio").GetDouble());
        Assert.True(dbStatus.GetProperty("dedup_ratio").GetDouble() > 1.25, $"three overlapping dumps deduplicate (at worst 39 MB over 12 + 2 x (1 + 8) MB): {restorable} / {stored}");

        // Growth: the 40-day-old snapshot is outside the window; each later night adds what restic's raw-data of
        // the snapshots up to it adds.
        var first = await TotalAsync(restic, "raw-data", db[0]);
        var second = await TotalAsync(restic, "raw-data", db[0], db[1]);
        var growth = dbStatus.GetProperty("growth").EnumerateArray()
            .Select(g => (g.GetProperty("night").GetString(), g.GetProperty("bytes_added").GetInt64())).ToList();
        Assert.Equal([(Night(now.AddDays(-2)), second - first), (Night(now.AddDays(-1)), stored - second)], growth);
        // The new bytes and the chunk they reopen (restic's chunks average 1 MiB, at most 8 MiB).
        Assert.InRange(second - first, 1_000_000, 10_000_000);

        var filesStatus = sources["files"];
        var filesId = Assert.Single(await SnapshotIdsAsync(restic, "files"));
        Assert.Equal(await TotalAsync(restic, "restore-size", filesId), filesStatus.GetProperty("restore_size").GetInt64());
        Assert.Equal(await TotalAsync(restic, "raw-data", filesId), filesStatus.GetProperty("stored_size").GetInt64());
        Assert.True(filesStatus.GetProperty("dedup_ratio").GetDouble() > 1.9, "a copied file is stored once");

        // The repository's own files, split at the cold age: what db stored 40 days ago is in GLACIER_IR.
        var onDisk = new[] { "data", "index", "snapshots", "keys" }
            .Sum(f => Directory.EnumerateFiles(Path.Combine(repository, f), "*", SearchOption.AllDirectories).Sum(p => new FileInfo(p).Length));
        Assert.Equal(onDisk, status.GetProperty("repository_size").GetInt64());
        var cost = status.GetProperty("storage_cost").EnumerateArray().ToDictionary(c => c.GetProperty("storage_class").GetString()!);
        Assert.Equal(first, cost["GLACIER_IR"].GetProperty("bytes").GetInt64());
        Assert.Equal(onDisk - first, cost["STANDARD"].GetProperty("bytes").GetInt64());
        Assert.Equal(Math.Round(first / 1e9m * 0.004m, 4), cost["GLACIER_IR"].GetProperty("monthly_usd").GetDecimal());

        var none = JsonDocument.Parse((await agent.RunOkAsync("status", "--json", "--cold-class", "none")).StdoutText).RootElement;
        var only = Assert.Single(none.GetProperty("storage_cost").EnumerateArray());
        Assert.Equal(onDisk, only.GetProperty("bytes").GetInt64());

        var text = (await agent.RunOkAsync("status")).StdoutText;
        Assert.Contains(db[^1][..8], text);
        Assert.Contains("GLACIER_IR", text);

        // No workflow has run here: the status says so, and the rest of it stands.
        Assert.Contains("run history: none recorded yet", text);
        Assert.Equal(JsonValueKind.Null, status.GetProperty("history").ValueKind);
        Assert.StartsWith("none recorded yet", status.GetProperty("history_note").GetString());
    }

    [Fact]
    public async Task Status_shows_each_sources_last_failure_success_rate_and_backup_durations_from_the_run_history()
    {
        using var dir = new TempDir();
        var repository = dir.Combine("repo");
        var agent = new Agent(repository, Password);
        await agent.RunOkAsync("init");
        (await agent.RunAsync(["backup", "--stdin", "--stdin-filename", "db.dump", "--tag", "db"], stdin: new MemoryStream(BackendContract.RandomBytes(10_000))))
            .EnsureSuccess("backup db");
        var now = DateTimeOffset.UtcNow;
        RunRecord Run(int daysAgo, string? failedStep, params SourceRun[] sources) =>
            new("db-box", $"run-{daysAgo}", now.AddDays(-daysAgo), now.AddDays(-daysAgo).AddMinutes(10), failedStep == null, failedStep,
                failedStep == null ? null : "BackupAgent.SourcesFailed", null, sources);
        await using (var repo = await Repository.OpenAsync(new LocalBackend(repository), Password))
            await RunHistoryStore.UpdateAsync(repo, history =>
            {
                history.Add(Run(40, "StartBackup", new SourceRun("files", false, "old failure")));
                history.Add(Run(5, "Verify"));
                history.Add(Run(4, null, new SourceRun("db", true, DurationSeconds: 100)));
                history.Add(Run(3, "StartBackup", new SourceRun("db", false, "pg_dump: connection refused", 2), new SourceRun("files", true, DurationSeconds: 12)));
                history.Add(Run(2, null, new SourceRun("db", true, DurationSeconds: 120)));
                history.Add(Run(1, null, new SourceRun("db", true, DurationSeconds: 140), new SourceRun("files", true, DurationSeconds: 10)));
            }, default);

        var json = JsonDocument.Parse((await agent.RunOkAsync("status", "--json")).StdoutText).RootElement.GetProperty("history");
        Assert.Equal(5, json.GetProperty("runs").GetInt32());
        Assert.Equal(2, json.GetProperty("runs_failed").GetInt32());
        Assert.Equal("run-1", json.GetProperty("last_run").GetProperty("execution").GetString());
        Assert.Equal("StartBackup", json.GetProperty("last_failed_run").GetProperty("failed_step").GetString());
        var sources = json.GetProperty("sources").EnumerateArray().ToDictionary(s => s.GetProperty("source").GetString()!);
        Assert.Equal(["db", "files"], sources.Keys);
        var db = sources["db"];
        Assert.Equal((4, 3, 0.75), (db.GetProperty("runs").GetInt32(), db.GetProperty("succeeded").GetInt32(), db.GetProperty("success_rate").GetDouble()));
        Assert.Equal("pg_dump: connection refused", db.GetProperty("last_error").GetString());
        Assert.Equal(now.AddDays(-3).ToString("O", CultureInfo.InvariantCulture), db.GetProperty("last_failure").GetString());
        Assert.Equal([100.0, 120.0, 140.0], db.GetProperty("durations").EnumerateArray().Select(d => d.GetProperty("seconds").GetDouble()));
        Assert.Equal((140.0, 120.0), (db.GetProperty("latest_seconds").GetDouble(), db.GetProperty("average_seconds").GetDouble()));
        // files failed 40 days ago: outside the 30 days of the rate, still its last failure.
        var files = sources["files"];
        Assert.Equal((2, 1.0), (files.GetProperty("runs").GetInt32(), files.GetProperty("success_rate").GetDouble()));
        Assert.Equal("old failure", files.GetProperty("last_error").GetString());

        var text = (await agent.RunOkAsync("status")).StdoutText.ReplaceLineEndings("\n");
        Assert.Contains("run history (last 30 days):", text);
        Assert.Matches(@"\ndb +4 +75% +2m 20s / 2m 00s  \d{4}-\d\d-\d\d \d\d:\d\d UTC StartBackup: pg_dump: connection refused\n", text);
        Assert.Matches(@"\nfiles +2 +100% +10s / 11s  .* StartBackup: old failure\n", text);
        Assert.Contains("last run: ", text);

        // The history sits in status/, beside restic's folders: stock restic reads the repository as before.
        Assert.Contains("no errors were found", (await new Restic(repository, Password).RunOkAsync("check", "--read-data")).StdoutText);
    }

    [Theory]
    [InlineData("--cold-class", "GLACIER")]
    [InlineData("--cold-after-days", "-3")]
    public async Task A_bad_cold_setting_is_a_usage_error_on_one_line(string flag, string value)
    {
        using var dir = new TempDir();
        var agent = new Agent(dir.Combine("repo"), Password);
        var run = await agent.RunAsync(["status", flag, value]);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(flag, run.Stderr);
        Assert.Single(run.Stderr.Trim().Split('\n'));
    }

    private static string Night(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static async Task<List<string>> SnapshotIdsAsync(Restic restic, string tag) =>
        [.. (await restic.JsonAsync("snapshots", "--tag", tag)).EnumerateArray()
            .OrderBy(s => s.GetProperty("time").GetDateTimeOffset()).Select(s => s.GetProperty("id").GetString()!)];

    private static async Task<long> TotalAsync(Restic restic, string mode, params string[] selection) =>
        (await restic.JsonAsync(["stats", "--mode", mode, .. selection])).GetProperty("total_size").GetInt64();
}
