using System.Text.Json;
using Backups.Functions.Contracts;
using Backups.Functions.Handlers.Freshness;
using Backups.Functions.Runtime;
using Backups.Tests.Functions;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Pitr;

/// <summary>
/// The nightly side of point-in-time recovery on a real archiving PostgreSQL 15: base backups on their cadence,
/// facts recorded every night, the PITR drill recovering to them, and the Freshness step reading the archive.
/// </summary>
public sealed class PitrDrillTests
{
    [Fact]
    public async Task drill_recovers_to_the_nightly_facts_and_a_missing_wal_snapshot_fails_it_naming_the_segment()
    {
        await using var cluster = await ArchivingCluster.StartAsync(""", "database": "app" """);
        var pg = cluster.Pg;
        await pg.CreateDatabaseAsync("app");
        await pg.ExecAsync("app", "CREATE TABLE orders (id int); INSERT INTO orders SELECT generate_series(1, 100); CREATE TABLE notes (t text); INSERT INTO notes VALUES ('a'), ('b')");

        var first = await RunAsync(cluster);
        Assert.False(first.TryGetProperty("skipped", out _), first.ToString());

        // Written after the base backup: the drill must replay them from the archive.
        await pg.ExecAsync("app", "INSERT INTO orders SELECT generate_series(101, 150)");
        var replayed = await cluster.SwitchAndWaitArchivedAsync();
        await pg.ExecAsync("app", "DELETE FROM notes WHERE t = 'a'");
        var second = await RunAsync(cluster);
        Assert.StartsWith("base backup not due: the newest", second.GetProperty("skipped").GetString());
        Assert.Contains("base_backup_every is 1d", second.GetProperty("skipped").GetString());
        // After the facts' moment: the recovery must stop before it.
        await pg.ExecAsync("app", "INSERT INTO orders SELECT generate_series(151, 157)");
        await cluster.SwitchAndWaitArchivedAsync();

        var drill = await DrillAsync(cluster);
        Assert.True(drill.GetProperty("passed").GetBoolean(), drill.ToString());
        var checks = drill.GetProperty("sources")[0].GetProperty("checks").EnumerateArray()
            .ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("actual").GetString());
        Assert.Equal("150", checks["rows public.orders"]);
        Assert.Equal("1", checks["rows public.notes"]);

        // The archive is fresh against the RPO the nightly run recorded: archive_timeout (2 s) plus 5 minutes.
        var freshness = await FreshnessAsync(cluster);
        var wal = Assert.Single(freshness.Wal);
        Assert.Equal("cluster", wal.Name);
        Assert.False(wal.Stale);
        Assert.Equal(5 + 2 / 60.0, wal.RpoMinutes, 6);

        // The WAL batch holding a segment between the base backup and the facts' moment goes missing.
        var restic = new Restic(cluster.Repository, ArchivingCluster.Password);
        foreach (var snapshot in (await restic.JsonAsync("snapshots", "--tag", "wal")).EnumerateArray().Select(s => s.GetProperty("id").GetString()!))
            if ((await restic.RunOkAsync("ls", snapshot)).StdoutText.Split('\n').Contains("/" + replayed))
                File.Delete(Path.Combine(cluster.Repository, "snapshots", snapshot));
        var failed = await DrillAsync(cluster);
        Assert.False(failed.GetProperty("passed").GetBoolean());
        Assert.Contains($"WAL segment {replayed} is missing", failed.GetProperty("sources")[0].GetProperty("error").GetString());
    }

    private static async Task<JsonElement> RunAsync(ArchivingCluster cluster)
    {
        var run = await cluster.Agent.RunAsync(["--json", "run", "--config", cluster.Config], extraEnv: cluster.Environment);
        Assert.True(run.ExitCode == 0, run.StdoutText + run.Stderr + cluster.ArchiverLog);
        return JsonDocument.Parse(run.StdoutText).RootElement.GetProperty("sources")[0];
    }

    private static async Task<JsonElement> DrillAsync(ArchivingCluster cluster)
    {
        var drill = await cluster.Agent.RunAsync(["--json", "drill", "--config", cluster.Config], extraEnv: cluster.Environment);
        Assert.True(drill.StdoutText.TrimStart().StartsWith('{'), $"drill printed no result (exit {drill.ExitCode}): {drill.Stderr}");
        return JsonDocument.Parse(drill.StdoutText).RootElement;
    }

    private static async Task<FreshnessResult> FreshnessAsync(ArchivingCluster cluster)
    {
        using var environment = new FunctionEnvironment(new Dictionary<string, string>
        {
            ["RESTIC_REPOSITORY"] = cluster.Repository, ["RESTIC_PASSWORD"] = ArchivingCluster.Password,
        });
        return await new FreshnessFunction(environment).CheckAsync(new FreshnessInput(), SnapshotHistory.Invocation());
    }
}
