using Backups.Tests.Faults;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Pitr;

/// <summary>
/// WAL archiving into s3rver through a fault-injecting proxy while pgbench writes: the archiver SIGKILLed at five
/// seeded moments (and started again, as systemd would), the store unreachable for a minute, a prune taking the
/// exclusive lock. Afterwards every segment PostgreSQL counts as archived is in the repository (none lost, none
/// acknowledged before it was stored), and recovery from the repository on s3rver reaches a marker row's
/// moments and the end of the archive.
/// </summary>
public sealed class ArchivingFaultTests(S3rverFixture s3) : IClassFixture<S3rverFixture>
{
    [Fact]
    public async Task Kills_an_outage_and_a_prune_lose_no_segment_and_recovery_from_s3_reaches_every_moment()
    {
        var random = new Random(1307);
        await using var proxy = new FaultProxy(s3, seed: 1307);
        var env = new Dictionary<string, string>(s3.Env);
        var repository = proxy.NewRepository();
        await using var cluster = await ArchivingCluster.StartAsync(repository: repository, storeEnvironment: env);
        var (agent, config, pg) = (cluster.Agent, cluster.Config, cluster.Pg);
        await pg.CreateDatabaseAsync("app");
        await pg.PgbenchInitAsync("app", scale: 1);
        await pg.ExecAsync("app", "CREATE TABLE marker (note text)");
        var run = await agent.RunAsync(["run", "--config", config], extraEnv: cluster.Environment);
        Assert.True(run.ExitCode == 0, run.StdoutText + run.Stderr + cluster.ArchiverLog);

        using var load = cluster.StartLoad("-c", "1", "-R", "100", "-T", "600");
        for (var kill = 0; kill < 5; kill++)
        {
            await Task.Delay(random.Next(300, 1500));
            cluster.KillArchiver();
            await Task.Delay(random.Next(0, 1000));
            cluster.StartArchiver();
        }

        await pg.ExecAsync("app", "INSERT INTO marker VALUES ('T1')");
        var t1 = await pg.QueryScalarAsync("app", "SELECT now()");
        await Task.Delay(2500);
        await pg.ExecAsync("app", "DELETE FROM marker");
        var t2 = await pg.QueryScalarAsync("app", "SELECT now()");

        // Pushes wait while the archiver's store retries (or fail, and PostgreSQL tries again): either way nothing
        // may be acknowledged before it is stored.
        proxy.StartOutage(TimeSpan.FromMinutes(1));
        await Task.Delay(TimeSpan.FromMinutes(1));
        Assert.True(proxy.Injected.GetValueOrDefault("Outage") > 0, "the outage met no request");

        // A prune takes the exclusive lock (between the archiver's batches): archiving fails meanwhile, and
        // PostgreSQL keeps its segments and tries again.
        var pruned = false;
        for (var attempt = 0; attempt < 120 && !pruned; attempt++)
        {
            var prune = await agent.RunAsync(["prune"]);
            Assert.True(prune.ExitCode is 0 or 11, prune.StdoutText + prune.Stderr);
            pruned = prune.ExitCode == 0;
        }
        Assert.True(pruned, "prune never found the repository free of the archiver's locks");

        load.Kill();
        await load.WaitForExitAsync();
        var counts = await pg.RowCountsAsync("app");
        var last = await cluster.SwitchAndWaitArchivedAsync(seconds: 180);

        // Every file PostgreSQL counts as archived is in the repository: each one marked done, and each segment
        // from the first archived to the last.
        // PostgreSQL's side first: a file it marks done later is in the repository before, or the check would race it.
        var done = Directory.GetFiles(Path.Combine(pg.DataDirectory, "pg_wal", "archive_status"), "*.done")
            .Select(f => Path.GetFileName(f)[..^".done".Length]).ToList();
        var archivedCount = long.Parse(await pg.QueryScalarAsync("postgres", "SELECT archived_count FROM pg_stat_archiver"));
        var restic = new Restic(proxy.Direct(repository), ArchivingCluster.Password, s3.CaCertPath, env);
        var stored = (await restic.JsonAsync("find", "--tag", "wal", "0*")).EnumerateArray()
            .SelectMany(s => s.GetProperty("matches").EnumerateArray()).Select(m => m.GetProperty("path").GetString()!.TrimStart('/')).ToHashSet();
        Assert.NotEmpty(done);
        Assert.All(done, name => Assert.Contains(name, stored));
        var segments = stored.Where(n => n.Length == 24).Order(StringComparer.Ordinal).ToList();
        var first = Convert.ToUInt64(segments[0][8..], 16);
        var through = Convert.ToUInt64(last[8..], 16);
        for (var n = first; n <= through; n++) Assert.Contains($"00000001{n:X16}", stored);
        Assert.True(archivedCount <= stored.Count, $"PostgreSQL archived {archivedCount} files, the repository holds {stored.Count}");
        await restic.CheckAsync(readData: false);

        Assert.Equal("1", await cluster.RecoverAndQueryAsync(t1, "SELECT count(*) FROM marker"));
        Assert.Equal("0", await cluster.RecoverAndQueryAsync(t2, "SELECT count(*) FROM marker"));
        var latest = await cluster.RecoverAndQueryAsync("latest", PostgresServer.RowCountsSql);
        Assert.Equal(counts, PostgresServer.ParseRowCounts(latest));
    }
}
