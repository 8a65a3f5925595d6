using System.Globalization;
using System.Text.Json;
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
