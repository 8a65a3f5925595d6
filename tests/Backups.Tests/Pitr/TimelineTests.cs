using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Pitr;

/// <summary>
/// Beyond one timeline: a cluster recovered to a moment and promoted (timeline 2) goes on archiving into the same
/// repository; a later recovery follows the timeline history from the base backup taken on timeline 1 to rows
/// written on timeline 2, and never to the abandoned end of timeline 1.
/// </summary>
public sealed class TimelineTests
{
    [Fact]
    public async Task recovery_after_a_promotion_follows_the_new_timeline_and_check_passes()
    {
        await using var cluster = await ArchivingCluster.StartAsync();
        await cluster.Pg.CreateDatabaseAsync("app");
        await cluster.Pg.ExecAsync("app", "CREATE TABLE marker (note text); INSERT INTO marker VALUES ('before the base backup')");
        var run = await cluster.Agent.RunAsync(["run", "--config", cluster.Config], extraEnv: cluster.Environment);
        Assert.True(run.ExitCode == 0, run.StdoutText + run.Stderr + cluster.ArchiverLog);

        await cluster.Pg.ExecAsync("app", "INSERT INTO marker VALUES ('kept on timeline 1')");
        var branch = await cluster.Pg.QueryScalarAsync("app", "SELECT now()");
        await cluster.Pg.ExecAsync("app", "INSERT INTO marker VALUES ('the mistake, abandoned')");
        await cluster.SwitchAndWaitArchivedAsync();

        await cluster.PromoteRecoveredAsync(branch);
        var pg = cluster.Pg;
        Assert.Equal("00000002", await pg.QueryScalarAsync("postgres", "SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)"));
        await pg.ExecAsync("app", "INSERT INTO marker VALUES ('written on timeline 2')");
        var target = await pg.QueryScalarAsync("app", "SELECT now()");
        await pg.ExecAsync("app", "INSERT INTO marker VALUES ('after the target')");
        var segment = await cluster.SwitchAndWaitArchivedAsync();
        Assert.StartsWith("00000002", segment);

        Assert.Equal("before the base backup\nkept on timeline 1\nwritten on timeline 2",
            await cluster.RecoverAndQueryAsync(target, "SELECT note FROM marker ORDER BY note"));

        // Each timeline's chain is whole, and the history file that links them is in the repository.
        await cluster.Agent.RunOkAsync("check");
        var restic = new Restic(cluster.Repository, ArchivingCluster.Password);
        var archived = new List<string>();
        foreach (var snapshot in (await restic.JsonAsync("snapshots", "--tag", "wal")).EnumerateArray())
            archived.AddRange((await restic.RunOkAsync("ls", snapshot.GetProperty("id").GetString()!)).StdoutText.Split('\n'));
        Assert.Contains("/00000002.history", archived);
    }
}
