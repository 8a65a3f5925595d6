using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Pitr;

/// <summary>
/// Point-in-time recovery end to end on a real PostgreSQL 15 under a pgbench load: PostgreSQL archives through
/// `wal-push` (as its own account) to the resident archiver (as root), the nightly run takes a base backup, and
/// `pitr --start` recovers to moments around a marker row and to the end of the archive. (ArchivingFaultTests
/// does the same on s3rver, through faults.)
/// </summary>
public sealed class PointInTimeRecoveryTests
{
    [Fact]
    public async Task recovery_reaches_moments_around_a_marker_row_and_the_end_of_the_archive()
    {
        await using var cluster = await ArchivingCluster.StartAsync();
        var (agent, config, pg) = (cluster.Agent, cluster.Config, cluster.Pg);
        await pg.CreateDatabaseAsync("app");
        await pg.PgbenchInitAsync("app", scale: 1);
        await pg.ExecAsync("app", "CREATE TABLE marker (note text)");
        var run = await agent.RunAsync(["run", "--config", config], extraEnv: cluster.Environment);
        Assert.True(run.ExitCode == 0, run.StdoutText + run.Stderr + cluster.ArchiverLog);

        using var load = cluster.StartLoad("-c", "2", "-T", "9");
        await Task.Delay(2000);
        await pg.ExecAsync("app", "INSERT INTO marker VALUES ('T1')");
        var t1 = await pg.QueryScalarAsync("app", "SELECT now()");
        await Task.Delay(2500);
        await pg.ExecAsync("app", "DELETE FROM marker");
        var t2 = await pg.QueryScalarAsync("app", "SELECT now()");
        await load.WaitForExitAsync();
        Assert.Equal(0, load.ExitCode);
        var counts = await pg.RowCountsAsync("app");
        await cluster.SwitchAndWaitArchivedAsync();

        // A target before the only base backup is refused before anything is written.
        var early = Path.Combine(cluster.Shared, "early");
        var refused = await agent.RunAsync(["pitr", "--config", config, "--to", "2000-01-01 00:00:00+00", "--pgdata", early]);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("before the oldest base backup", refused.Stderr);
        Assert.False(Directory.Exists(early));

        Assert.Equal("1", await cluster.RecoverAndQueryAsync(t1, "SELECT count(*) FROM marker"));
        Assert.Equal("0", await cluster.RecoverAndQueryAsync(t2, "SELECT count(*) FROM marker"));
        var latest = await cluster.RecoverAndQueryAsync("latest", PostgresServer.RowCountsSql);
        Assert.Equal(counts, PostgresServer.ParseRowCounts(latest));

        // Stock restic reads it all, and dumps an archived segment byte for byte as PostgreSQL handed it over.
        var restic = new Restic(cluster.Repository, ArchivingCluster.Password);
        await restic.CheckAsync(readData: true);
        var walSnapshot = (await restic.JsonAsync("snapshots", "--tag", "wal")).EnumerateArray().Last().GetProperty("id").GetString()!;
        var names = (await restic.RunOkAsync("ls", walSnapshot)).StdoutText.Split('\n').Where(l => l.StartsWith('/')).Select(l => l[1..]).ToList();
        Assert.NotEmpty(names);
        using var dumped = new MemoryStream();
        (await restic.RunAsync(["dump", walSnapshot, names[0]], stdout: dumped)).EnsureSuccess("restic dump");
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(cluster.Copies, names[0])), dumped.ToArray());

        // The same segment pushed again is fine; a different file under its name is refused loudly.
        var copy = Path.Combine(cluster.Shared, names[0]);
        File.Copy(Path.Combine(cluster.Copies, names[0]), copy);
        Assert.Equal(0, (await agent.RunAsync(["wal-push", "--socket", cluster.Socket, copy])).ExitCode);
        await using (var f = File.OpenWrite(copy)) { f.Position = 100; f.WriteByte(0xFF); f.WriteByte(0x00); }
        var different = await agent.RunAsync(["wal-push", "--socket", cluster.Socket, copy]);
        Assert.NotEqual(0, different.ExitCode);
        Assert.Contains("different content", different.Stderr);
    }
}
