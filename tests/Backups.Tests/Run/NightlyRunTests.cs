using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Run;

/// <summary>A real PostgreSQL and a real Redis with data in them, shared by the nightly-run tests.</summary>
public sealed class DatabasesFixture : IAsyncLifetime
{
    public const string RedisPassword = "redis-Secret-7f3a91";
    public PostgresServer Postgres { get; private set; } = null!;
    public RedisServer Redis { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Postgres = await PostgresServer.StartAsync();
        Redis = await RedisServer.StartAsync(RedisPassword);
        await Postgres.CreateDatabaseAsync("app");
        await Postgres.PgbenchInitAsync("app", scale: 2);
        // Incompressible rows next to pgbench's very compressible ones.
        await Postgres.ExecAsync("app", "CREATE TABLE noise AS SELECT g AS id, md5(random()::text) || md5(random()::text) AS t FROM generate_series(1, 20000) g");
        await Redis.FillAsync(5000);
        await Redis.FillAsync(120, db: 3);
    }

    public async Task DisposeAsync()
    {
        await Postgres.DisposeAsync();
        await Redis.DisposeAsync();
    }
}

/// <summary>`backup-agent run` against real databases: what it saves restores, what fails says so, secrets stay secret.</summary>
public sealed class NightlyRunTests(DatabasesFixture db) : IClassFixture<DatabasesFixture>, IDisposable
{
    private const string RepositoryPassword = "repo-Secret-0c5e22";
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    private string PostgresSource(string name, string database, string password) => $$"""
        { "name": "{{name}}", "kind": "postgres", "host": "{{db.Postgres.Host}}", "port": {{db.Postgres.Port}},
          "user": "{{db.Postgres.User}}", "database": "{{database}}", "password": {{password}} }
        """;

    private string RedisSource => $$"""
        { "name": "cache", "kind": "redis", "host": "{{db.Redis.Host}}", "port": {{db.Redis.Port}}, "password": { "env": "CACHE_PASSWORD" } }
        """;

    private (string Config, string Repository) WriteConfig(params string[] sources)
    {
        var repo = _dir.Combine("repo");
        var config = _dir.Combine("config.json");
        File.WriteAllText(config, $$"""
            { "repository": "{{repo}}", "password": { "value": "{{RepositoryPassword}}" }, "concurrency": 2,
              "sources": [ {{string.Join(",\n", sources)}} ] }
            """);
        return (config, repo);
    }

    /// <summary>
    /// Runs the agent and collects the argument lists of the programs it starts: pg_dump and redis-cli are
    /// reached through shims that record their arguments and exec the real program (a child that lives
    /// 10 ms can slip between two samples of /proc), and every other child is sampled from /proc.
    /// </summary>
    private async Task<(int ExitCode, string Stdout, string Stderr, List<string> ChildCommandLines)> RunAgentAsync(string config)
    {
        var shims = _dir.Combine("shims");
        var argvLog = _dir.Combine("argv.log");
        Directory.CreateDirectory(shims);
        var path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin";
        foreach (var program in new[] { "pg_dump", "redis-cli" })
        {
            var real = path.Split(':').Select(d => Path.Combine(d, program)).First(File.Exists);
            var shim = Path.Combine(shims, program);
            File.WriteAllText(shim, $"#!/bin/sh\nprintf '%s\\n' \"{program} $*\" >> '{argvLog}'\nexec '{real}' \"$@\"\n");
            File.SetUnixFileMode(shim, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var psi = new ProcessStartInfo(Agent.Program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["--json", "run", "--config", config]) psi.ArgumentList.Add(a);
        psi.Environment["CACHE_PASSWORD"] = DatabasesFixture.RedisPassword;
        psi.Environment["PATH"] = $"{shims}:{path}";
        psi.Environment.Remove("RESTIC_PASSWORD");
        using var agent = Process.Start(psi)!;
        var stdout = agent.StandardOutput.ReadToEndAsync();
        var stderr = agent.StandardError.ReadToEndAsync();
        var seen = new List<string>();
        while (!agent.HasExited)
        {
            foreach (var child in Descendants(agent.Id))
                try
                {
                    seen.Add(File.ReadAllText($"/proc/{child}/cmdline").Replace('\0', ' '));
                }
                catch (IOException) { /* it ended between the listing and the read */ }
            await Task.Delay(2);
        }
        await agent.WaitForExitAsync();
        if (File.Exists(argvLog)) seen.AddRange(File.ReadAllLines(argvLog));
        return (agent.ExitCode, await stdout, await stderr, seen);
    }

    private static IEnumerable<int> Descendants(int pid) =>
        ProcessIds.ChildrenOf(pid).SelectMany(c => (IEnumerable<int>)[c, .. Descendants(c)]);

    [Fact]
    public async Task Postgres_and_redis_sources_restore_with_every_row_and_key()
    {
        var (config, repo) = WriteConfig(PostgresSource("app-db", "app", $"{{ \"value\": \"{db.Postgres.Password}\" }}"), RedisSource);
        await new Agent(repo, RepositoryPassword).RunAsync(["init"]);

        var run = await RunAgentAsync(config);
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}: {run.Stderr}");
        var result = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.True(result.GetProperty("succeeded").GetBoolean());

        var restic = new Restic(repo, RepositoryPassword);
        var pg = Assert.Single((await restic.JsonAsync("snapshots", "--tag", "app-db")).EnumerateArray());
        Assert.Equal("/app-db.dump", pg.GetProperty("paths")[0].GetString());
        Assert.Single((await restic.JsonAsync("snapshots", "--tag", "cache")).EnumerateArray());

        // The restore runbook, with stock restic: dump | pg_restore into a fresh database.
        var dump = new MemoryStream();
        (await restic.RunAsync(["dump", "latest", "/app-db.dump", "--tag", "app-db"], stdout: dump)).EnsureSuccess("restic dump");
        dump.Position = 0;
        await db.Postgres.CreateDatabaseAsync("restored");
        (await Processes.RunAsync(PostgresServer.Tool("pg_restore"), ["--no-owner", "--dbname=restored"], db.Postgres.ClientEnvironment, stdin: dump))
            .EnsureSuccess("pg_restore");
        var expected = await db.Postgres.RowCountsAsync("app");
        Assert.Equal(expected.OrderBy(kv => kv.Key), (await db.Postgres.RowCountsAsync("restored")).OrderBy(kv => kv.Key));
        Assert.Equal(200_000, expected["public.pgbench_accounts"]);

        var rdb = _dir.Combine("dump.rdb");
        await using (var file = File.Create(rdb))
            (await restic.RunAsync(["dump", "latest", "/cache.rdb", "--tag", "cache"], stdout: file)).EnsureSuccess("restic dump rdb");
        await using var loaded = await RedisServer.LoadRdbAsync(rdb);
        Assert.Equal(await db.Redis.KeyCountsAsync(), await loaded.KeyCountsAsync());
        await restic.CheckAsync(readData: true);
    }

    [Fact]
    public async Task Failing_sources_get_no_snapshot_others_finish_and_secrets_stay_out_of_everything()
    {
        // A command source that complains on stderr with a secret it read from a file (not from its arguments).
        var leak = _dir.Combine("leak");
        await File.WriteAllTextAsync(leak, DatabasesFixture.RedisPassword);
        var pgPasswordFile = _dir.Combine("pg-password");
        await File.WriteAllTextAsync(pgPasswordFile, db.Postgres.Password + "\n");
        var (config, repo) = WriteConfig(
            PostgresSource("missing-db", "does_not_exist", $"{{ \"file\": \"{pgPasswordFile}\" }}"),
            PostgresSource("app-db", "app", $"{{ \"value\": \"{db.Postgres.Password}\" }}"),
            RedisSource,
            $$"""{ "name": "leaky", "kind": "command", "command": ["sh", "-c", "echo \"login failed with $(cat {{leak}})\" >&2; exit 3"] }""");
        await new Agent(repo, RepositoryPassword).RunAsync(["init"]);

        var run = await RunAgentAsync(config);

        Assert.Equal(18, run.ExitCode);
        var result = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.False(result.GetProperty("succeeded").GetBoolean());
        Assert.Equal(["leaky", "missing-db"], result.GetProperty("failed_sources").EnumerateArray().Select(e => e.GetString()!).Order());
        var sources = result.GetProperty("sources").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
        var missing = sources["missing-db"];
        Assert.Contains("pg_dump exited with status 1", missing.GetProperty("error").GetString());
        Assert.Contains("does_not_exist", missing.GetProperty("error").GetString());
        Assert.Equal(1, missing.GetProperty("exit_status").GetInt32());
        Assert.False(missing.TryGetProperty("snapshot_id", out _));
        Assert.Contains("[redacted]", sources["leaky"].GetProperty("stderr_tail").GetString());
        Assert.True(sources["cache"].GetProperty("succeeded").GetBoolean());
        Assert.True(sources["app-db"].GetProperty("succeeded").GetBoolean());

        var restic = new Restic(repo, RepositoryPassword);
        Assert.Empty((await restic.JsonAsync("snapshots", "--tag", "missing-db")).EnumerateArray());
        Assert.Empty((await restic.JsonAsync("snapshots", "--tag", "leaky")).EnumerateArray());
        Assert.Single((await restic.JsonAsync("snapshots", "--tag", "cache")).EnumerateArray());
        await restic.CheckAsync(readData: false);

        Assert.Contains(run.ChildCommandLines, c => c.StartsWith("pg_dump ") && c.Contains("--dbname=does_not_exist"));
        Assert.Contains(run.ChildCommandLines, c => c.StartsWith("redis-cli ") && c.Contains("--rdb"));
        foreach (var secret in new[] { RepositoryPassword, db.Postgres.Password, DatabasesFixture.RedisPassword })
        {
            Assert.DoesNotContain(secret, run.Stdout);
            Assert.DoesNotContain(secret, run.Stderr);
            Assert.DoesNotContain(run.ChildCommandLines, c => c.Contains(secret));
        }
    }

    [Fact]
    public async Task A_source_past_its_timeout_is_killed_and_gets_no_snapshot()
    {
        var (config, repo) = WriteConfig(
            """{ "name": "stuck", "kind": "command", "command": ["sh", "-c", "echo started; sleep 60"], "timeout_seconds": 1 }""",
            """{ "name": "quick", "kind": "command", "command": ["echo", "fine"] }""");
        await new Agent(repo, RepositoryPassword).RunAsync(["init"]);

        var run = await RunAgentAsync(config);

        Assert.Equal(18, run.ExitCode);
        var sources = JsonDocument.Parse(run.Stdout).RootElement.GetProperty("sources").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
        Assert.Equal("sh timed out after 1 s and was killed", sources["stuck"].GetProperty("error").GetString());
        Assert.True(sources["quick"].GetProperty("succeeded").GetBoolean());
        var restic = new Restic(repo, RepositoryPassword);
        Assert.Empty((await restic.JsonAsync("snapshots", "--tag", "stuck")).EnumerateArray());
        Assert.Single((await restic.JsonAsync("snapshots", "--tag", "quick")).EnumerateArray());
    }
}
