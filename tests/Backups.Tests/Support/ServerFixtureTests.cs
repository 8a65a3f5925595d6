using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace Backups.Tests.Support;

/// <summary>The throwaway database servers behave as the backup tests assume, and leave nothing behind.</summary>
public sealed class ServerFixtureTests(ITestOutputHelper log)
{
    [Fact]
    public async Task Postgres_holds_pgbench_data_that_survives_dump_and_restore()
    {
        var started = Stopwatch.StartNew();
        await using var pg = await PostgresServer.StartAsync();
        log.WriteLine($"PostgreSQL started in {started.ElapsedMilliseconds} ms");

        await pg.CreateDatabaseAsync("source");
        await pg.PgbenchInitAsync("source", scale: 1);
        var counts = await pg.RowCountsAsync("source");
        Assert.Equal(new Dictionary<string, long>
        {
            ["public.pgbench_accounts"] = 100_000,
            ["public.pgbench_branches"] = 1,
            ["public.pgbench_tellers"] = 10,
            ["public.pgbench_history"] = 0,
        }, counts);
        Assert.Equal("100000", await pg.QueryScalarAsync("source", "SELECT count(*) FROM pgbench_accounts"));

        using var dir = new TempDir();
        var dump = dir.Combine("source.dump");
        await using (var file = File.Create(dump))
            (await Processes.RunAsync(PostgresServer.Tool("pg_dump"), ["-Fc", "-d", "source"], pg.ClientEnvironment, stdout: file))
                .EnsureSuccess("pg_dump");
        await pg.CreateDatabaseAsync("copy");
        await using (var file = File.OpenRead(dump))
            (await Processes.RunAsync(PostgresServer.Tool("pg_restore"), ["--exit-on-error", "-d", "copy"], pg.ClientEnvironment, stdin: file))
                .EnsureSuccess("pg_restore");
        Assert.Equal(counts, await pg.RowCountsAsync("copy"));
    }

    [Fact]
    public async Task Postgres_requires_the_password_over_tcp()
    {
        await using var pg = await PostgresServer.StartAsync();
        var env = pg.ClientEnvironment;
        env["PGPASSWORD"] = "wrong";
        var refused = await Processes.RunAsync(PostgresServer.Tool("psql"), ["-X", "-d", "postgres", "-c", "SELECT 1"], env);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("password authentication failed", refused.Stderr);
    }

    [Fact]
    public async Task Postgres_dispose_stops_every_server_process_and_removes_the_directory()
    {
        var pg = await PostgresServer.StartAsync();
        await pg.ExecAsync("postgres", "CREATE TABLE t AS SELECT generate_series(1, 10) AS n");
        var processes = ProcessIds.ChildrenOf(pg.ProcessId).Append(pg.ProcessId).ToList();
        Assert.True(processes.Count > 1, "the postmaster runs background processes");

        var stopping = Stopwatch.StartNew();
        await pg.DisposeAsync();
        log.WriteLine($"PostgreSQL stopped in {stopping.ElapsedMilliseconds} ms");
        Assert.DoesNotContain(processes, ProcessIds.IsRunning);
        Assert.False(Directory.Exists(pg.TempDirectory));
    }

    [Fact]
    public async Task Redis_snapshot_from_redis_cli_loads_into_a_fresh_server()
    {
        const string password = "a \"quoted\" pass phrase";
        var started = Stopwatch.StartNew();
        var redis = await RedisServer.StartAsync(password);
        log.WriteLine($"Redis started in {started.ElapsedMilliseconds} ms");
        RedisServer? loaded = null;
        try
        {
            Assert.DoesNotContain("pass phrase", await File.ReadAllTextAsync($"/proc/{redis.ProcessId}/cmdline"));
            var anonymous = await Processes.RunAsync("redis-cli", [.. redis.ClientArguments, "DBSIZE"]);
            Assert.StartsWith("NOAUTH", anonymous.StdoutText);

            await redis.FillAsync(1000);
            await redis.FillAsync(10, db: 2);
            Assert.Equal(1000, await redis.DbSizeAsync());
            Assert.Equal(new Dictionary<int, long> { [0] = 1000, [2] = 10 }, await redis.KeyCountsAsync());

            using var dir = new TempDir();
            var rdb = dir.Combine("backup.rdb");
            var snapshot = Stopwatch.StartNew();
            await using (var file = File.Create(rdb))
                (await Processes.RunAsync("redis-cli", [.. redis.ClientArguments, "--rdb", "-"], redis.ClientEnvironment, stdout: file))
                    .EnsureSuccess("redis-cli --rdb -");
            log.WriteLine($"redis-cli --rdb took {snapshot.ElapsedMilliseconds} ms");

            loaded = await RedisServer.LoadRdbAsync(rdb);
            Assert.Equal(1000, await loaded.DbSizeAsync());
            Assert.Equal(new Dictionary<int, long> { [0] = 1000, [2] = 10 }, await loaded.KeyCountsAsync());
        }
        finally
        {
            await redis.DisposeAsync();
            if (loaded != null) await loaded.DisposeAsync();
        }

        foreach (var server in new[] { redis, loaded! })
        {
            Assert.False(ProcessIds.IsRunning(server.ProcessId));
            Assert.False(Directory.Exists(server.TempDirectory));
        }
    }

    [Fact]
    public async Task Redis_refuses_a_corrupt_snapshot_and_cleans_up()
    {
        using var dir = new TempDir();
        var rdb = dir.Combine("corrupt.rdb");
        await File.WriteAllTextAsync(rdb, "REDIS0011 this is not a snapshot");

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => RedisServer.LoadRdbAsync(rdb));
        Assert.Contains("redis-server exited", e.Message);
        // The message names the server's log, inside the directory that must be gone.
        var logFile = Regex.Match(e.Message, @"--- (\S+):").Groups[1].Value;
        Assert.EndsWith("redis.log", logFile);
        Assert.False(Directory.Exists(Path.GetDirectoryName(logFile)));
    }
}
