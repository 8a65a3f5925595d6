using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Drills;

/// <summary>A small shop database and a Redis with keys in two databases, shared by the drill tests.</summary>
public sealed class DrillDatabasesFixture : IAsyncLifetime
{
    public const string RedisPassword = "redis-Drill-5e1c07";
    public PostgresServer Postgres { get; private set; } = null!;
    public RedisServer Redis { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Postgres = await PostgresServer.StartAsync();
        Redis = await RedisServer.StartAsync(RedisPassword);
        await Postgres.CreateDatabaseAsync("shop");
        await Postgres.ExecAsync("shop", """
            CREATE TABLE customers AS SELECT g AS id, md5(g::text) AS name FROM generate_series(1, 3000) g;
            CREATE TABLE orders AS SELECT g AS id, g % 3000 + 1 AS customer, md5(random()::text) || md5(random()::text) AS note FROM generate_series(1, 40000) g;
            CREATE TABLE refunds AS SELECT g AS id FROM generate_series(1, 7) g;
            CREATE SCHEMA audit;
            CREATE TABLE audit."Log Entries" (id int);
            """);
        await Redis.FillAsync(2000);
        await Redis.FillAsync(50, db: 2);
    }

    public async Task DisposeAsync()
    {
        await Postgres.DisposeAsync();
        await Redis.DisposeAsync();
    }
}

/// <summary>
/// `backup-agent drill` against real PostgreSQL and Redis: good backups pass with their restore time, a
/// truncated dump and a failing SQL check are caught by name, and nothing the drill made is left behind
/// (databases, clusters, processes, ports, temporary files), also when it is interrupted.
/// </summary>
public sealed class DrillTests(DrillDatabasesFixture db) : IClassFixture<DrillDatabasesFixture>, IDisposable
{
    private const string RepositoryPassword = "repo-Drill-77a0b3";
    private readonly TempDir _dir = new();

    /// <summary>The agent's TMPDIR: where drills make their directories, watched for leftovers. Reachable by the
    /// postgres account, which runs a temporary cluster when the tests run as root.</summary>
    private string DrillTemp
    {
        get
        {
            var path = _dir.Combine("tmp");
            Directory.CreateDirectory(path);
            File.SetUnixFileMode(_dir.Path, (UnixFileMode)0b111_001_001);
            File.SetUnixFileMode(path, (UnixFileMode)0b111_001_001);
            return path;
        }
    }

    public void Dispose() => _dir.Dispose();

    private string PostgresSource(string name, string drill = "{}") => $$"""
        { "name": "{{name}}", "kind": "postgres", "host": "{{db.Postgres.Host}}", "port": {{db.Postgres.Port}},
          "user": "{{db.Postgres.User}}", "database": "shop", "password": { "value": "{{db.Postgres.Password}}" }, "drill": {{drill}} }
        """;

    private string RedisSource => $$"""
        { "name": "cache", "kind": "redis", "host": "{{db.Redis.Host}}", "port": {{db.Redis.Port}}, "password": { "env": "CACHE_PASSWORD" } }
        """;

    private string WriteConfig(params string[] sources)
    {
        var config = _dir.Combine("config.json");
        File.WriteAllText(config, $$"""
            { "repository": "{{Repository}}", "password": { "value": "{{RepositoryPassword}}" },
              "sources": [ {{string.Join(",\n", sources)}} ] }
            """);
        return config;
    }

    private string Repository => _dir.Combine("repo");

    private Dictionary<string, string> AgentEnvironment(string? path = null)
    {
        var env = new Dictionary<string, string> { ["CACHE_PASSWORD"] = DrillDatabasesFixture.RedisPassword, ["TMPDIR"] = DrillTemp };
        if (path != null) env["PATH"] = path;
        return env;
    }

    private async Task BackUpAsync(string config, string? path = null)
    {
        await new Agent(Repository, RepositoryPassword).RunOkAsync("init");
        var run = await Processes.RunAsync(Agent.Program, ["run", "--config", config], AgentEnvironment(path));
        Assert.True(run.ExitCode == 0, $"run exited {run.ExitCode}: {run.Stderr}");
    }

    private async Task<(int ExitCode, JsonElement Result, string Stderr)> DrillAsync(string config)
    {
        var drill = await Processes.RunAsync(Agent.Program, ["--json", "drill", "--config", config], AgentEnvironment());
        Assert.True(drill.StdoutText.Length > 0, $"drill exited {drill.ExitCode} without a result: {drill.Stderr}");
        return (drill.ExitCode, JsonDocument.Parse(drill.StdoutText).RootElement, drill.Stderr);
    }

    private static Dictionary<string, JsonElement> Sources(JsonElement result) =>
        result.GetProperty("sources").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);

    private static Dictionary<string, JsonElement> Checks(JsonElement source) =>
        source.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!);

    [Fact]
    public async Task A_good_backup_passes_with_its_restore_time_and_leaves_nothing_behind()
    {
        var files = _dir.Combine("files");
        Directory.CreateDirectory(Path.Combine(files, "sub"));
        for (var i = 0; i < 30; i++)
        {
            await using var file = File.Create(Path.Combine(files, i % 2 == 0 ? "sub" : "", $"f{i}.bin"));
            await new TestData(TestData.Kind.Random, 1000 * i + 1, seed: i).CopyToAsync(file);
        }
        var config = WriteConfig(
            PostgresSource("shop", """{ "checks": [ { "name": "orders exist", "sql": "SELECT count(*) FROM orders", "min": 1 } ] }"""),
            RedisSource,
            $$"""{ "name": "files", "kind": "paths", "paths": ["{{files}}"], "drill": { "sample_files": 10 } }""");
        await BackUpAsync(config);

        // The facts sit beside the dump; the dump itself is untouched (stock restic dumps what pg_dump wrote).
        var restic = new Restic(Repository, RepositoryPassword);
        var facts = JsonDocument.Parse((await restic.RunOkAsync("dump", "latest", "/shop.drill.json", "--tag", "shop")).StdoutText).RootElement;
        Assert.True(facts.GetProperty("same_snapshot").GetBoolean());
        Assert.Equal(40000, facts.GetProperty("tables").GetProperty("public.orders").GetInt64());
        var dump = (await restic.RunOkAsync("dump", "latest", "/shop.dump", "--tag", "shop")).Stdout;
        Assert.Equal("PGDMP"u8.ToArray(), dump[..5]);
        await restic.CheckAsync(readData: true);

        var (exit, result, stderr) = await DrillAsync(config);

        Assert.True(exit == 0, $"drill exited {exit}: {stderr}\n{result}");
        Assert.True(result.GetProperty("passed").GetBoolean());
        var sources = Sources(result);
        Assert.Equal(["cache", "files", "shop"], sources.Keys.Order());
        foreach (var source in sources.Values)
        {
            Assert.True(source.GetProperty("passed").GetBoolean(), source.ToString());
            Assert.True(source.GetProperty("restore_seconds").GetDouble() > 0);
            Assert.True(source.GetProperty("restore_bytes").GetInt64() > 0);
        }
        Assert.Equal(dump.Length, sources["shop"].GetProperty("restore_bytes").GetInt64());
        var shop = Checks(sources["shop"]);
        Assert.Equal("40000", shop["rows public.orders"].GetProperty("actual").GetString());
        Assert.Equal("0", shop["rows audit.\"Log Entries\""].GetProperty("actual").GetString());
        Assert.Equal("40000", shop["orders exist"].GetProperty("actual").GetString());
        var cache = Checks(sources["cache"]);
        Assert.Equal("2000", cache["keys db0"].GetProperty("actual").GetString());
        Assert.Equal("50", cache["keys db2"].GetProperty("actual").GetString());
        var sampled = Checks(sources["files"]).Keys.Where(k => k.StartsWith("file ", StringComparison.Ordinal)).ToList();
        Assert.Equal(10, sampled.Count);
        Assert.Equal("30", Checks(sources["files"])["files"].GetProperty("actual").GetString());

        await AssertNothingLeftAsync(result);
    }

    [Fact]
    public async Task A_command_that_emits_half_a_dump_and_exits_0_is_caught()
    {
        // A pg_dump that stops half way and still says all is well (a full disk in a pipe, a killed wrapper...).
        var config = WriteConfig(PostgresSource("shop"));
        await BackUpAsync(config, path: await TruncatingPathAsync("pg_dump", "--dbname", 300_000));

        var (exit, result, stderr) = await DrillAsync(config);

        Assert.True(exit == 19, $"drill exited {exit}: {stderr}");
        Assert.False(result.GetProperty("passed").GetBoolean());
        Assert.Equal(["shop"], result.GetProperty("failed_sources").EnumerateArray().Select(e => e.GetString()));
        var shop = Sources(result)["shop"];
        var restore = Checks(shop)["restore"];
        Assert.False(restore.GetProperty("passed").GetBoolean());
        Assert.Matches("^restore: pg_restore exited with status 1: pg_restore: error: .+", shop.GetProperty("error").GetString());
        Assert.Contains("drill failed", stderr);
        await AssertNothingLeftAsync(result);
    }

    [Fact]
    public async Task A_truncated_rdb_file_is_caught_by_redis_server_itself()
    {
        var config = WriteConfig(RedisSource);
        await BackUpAsync(config, path: await TruncatingPathAsync("redis-cli", "--rdb", 10_000));

        var (exit, result, stderr) = await DrillAsync(config);

        Assert.True(exit == 19, $"drill exited {exit}: {stderr}");
        var cache = Sources(result)["cache"];
        Assert.False(Checks(cache)["restore"].GetProperty("passed").GetBoolean());
        Assert.Matches("^restore: redis-server did not start on the restored RDB file: [A-Z].*EOF", cache.GetProperty("error").GetString());
        await AssertNothingLeftAsync(result);
    }

    [Fact]
    public async Task A_failing_sql_check_is_reported_by_name_on_a_temporary_cluster()
    {
        var config = WriteConfig(PostgresSource("shop", """
            { "target": "temporary-cluster", "checks": [
                { "name": "customers exist", "sql": "SELECT count(*) FROM customers", "min": 1 },
                { "name": "no refunds", "sql": "SELECT count(*) FROM refunds", "max": 0 },
                { "name": "broken query", "sql": "SELECT count(*) FROM no_such_table", "min": 0 } ] }
            """));
        await BackUpAsync(config);

        var (exit, result, stderr) = await DrillAsync(config);

        Assert.True(exit == 19, $"drill exited {exit}: {stderr}");
        var shop = Sources(result)["shop"];
        Assert.Matches(@"^temporary cluster on 127\.0\.0\.1:\d+", shop.GetProperty("restored_into").GetString());
        var checks = Checks(shop);
        Assert.True(checks["restore"].GetProperty("passed").GetBoolean());
        Assert.True(checks["rows public.orders"].GetProperty("passed").GetBoolean());
        Assert.True(checks["customers exist"].GetProperty("passed").GetBoolean());
        var refunds = checks["no refunds"];
        Assert.False(refunds.GetProperty("passed").GetBoolean());
        Assert.Equal("7", refunds.GetProperty("actual").GetString());
        Assert.Equal("at most 0", refunds.GetProperty("expected").GetString());
        Assert.Equal("no refunds: SELECT count(*) FROM refunds returned 7, expected at most 0", shop.GetProperty("error").GetString());
        Assert.Contains("no_such_table", checks["broken query"].GetProperty("message").GetString());
        await AssertNothingLeftAsync(result);
    }

    [Fact]
    public async Task An_interrupted_drill_removes_its_cluster_and_files()
    {
        // A check that outlasts the test, so the interruption always lands while the cluster runs.
        var config = WriteConfig(PostgresSource("shop", """
            { "target": "temporary-cluster", "checks": [ { "name": "slow", "sql": "SELECT 1 FROM pg_sleep(300)", "min": 1 } ] }
            """));
        await BackUpAsync(config);
        var temp = DrillTemp;

        var psi = new ProcessStartInfo(Agent.Program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["--json", "drill", "--config", config]) psi.ArgumentList.Add(a);
        foreach (var (k, v) in AgentEnvironment()) psi.Environment[k] = v;
        using var agent = Process.Start(psi)!;
        var stderr = agent.StandardError.ReadToEndAsync();
        var stdout = agent.StandardOutput.ReadToEndAsync();
        // Interrupted once the cluster's server runs, mid-drill.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!Directory.EnumerateFiles(temp, "postmaster.pid", SearchOption.AllDirectories).Any())
        {
            if (agent.HasExited) Assert.Fail($"the drill ended before it was interrupted: {await stderr}");
            Assert.True(DateTime.UtcNow < deadline, "no temporary cluster appeared");
            await Task.Delay(20);
        }
        (await Processes.RunAsync("kill", ["-TERM", agent.Id.ToString(CultureInfo.InvariantCulture)])).EnsureSuccess("kill");
        await agent.WaitForExitAsync();

        Assert.True(agent.ExitCode == 130, $"exit {agent.ExitCode}: {await stderr}{await stdout}");
        Assert.Contains("interrupted", await stderr);
        await AssertNothingLeftAsync(null);
    }

    [Fact]
    public async Task A_snapshot_without_recorded_facts_restores_but_fails_its_facts_check()
    {
        var config = WriteConfig(PostgresSource("shop"));
        var agent = new Agent(Repository, RepositoryPassword, env: db.Postgres.ClientEnvironment);
        await agent.RunOkAsync("init");
        await agent.RunOkAsync("backup", "--stdin-from-command", "--stdin-filename", "shop.dump", "--tag", "shop", "--",
            "pg_dump", "--format=custom", "--dbname=shop");

        var (exit, result, stderr) = await DrillAsync(config);

        Assert.True(exit == 19, $"drill exited {exit}: {stderr}");
        var shop = Sources(result)["shop"];
        var checks = Checks(shop);
        Assert.True(checks["restore"].GetProperty("passed").GetBoolean());
        Assert.False(checks["facts"].GetProperty("passed").GetBoolean());
        Assert.Contains("has no /shop.drill.json", shop.GetProperty("error").GetString());
        Assert.DoesNotContain(checks.Keys, k => k.StartsWith("rows ", StringComparison.Ordinal));
        await AssertNothingLeftAsync(result);
    }

    [Fact]
    public async Task Sql_checks_on_a_redis_source_are_a_config_error()
    {
        var config = WriteConfig($$"""
            { "name": "cache", "kind": "redis", "drill": { "checks": [ { "name": "x", "sql": "SELECT 1", "min": 1 } ] } }
            """);
        var drill = await Processes.RunAsync(Agent.Program, ["drill", "--config", config], AgentEnvironment());
        Assert.Equal(2, drill.ExitCode);
        Assert.Matches(@"^backup-agent: \S+\.json:\d+:\d+: config error at \$\.sources\[0\]\.drill\.checks: SQL checks apply to postgres sources only\n$", drill.Stderr);
    }

    /// <summary>
    /// A PATH on which <paramref name="program"/> is a script that runs the real one and, when its arguments
    /// contain <paramref name="match"/>, passes on only the first bytes of its output and exits 0 anyway.
    /// </summary>
    private async Task<string> TruncatingPathAsync(string program, string match, int bytes)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin";
        var real = path.Split(':').Select(d => Path.Combine(d, program)).First(File.Exists);
        var shims = _dir.Combine("shims");
        Directory.CreateDirectory(shims);
        var shim = Path.Combine(shims, program);
        await File.WriteAllTextAsync(shim,
            $"#!/bin/sh\ncase \"$*\" in *{match}*) '{real}' \"$@\" | head -c {bytes}; exit 0;; esac\nexec '{real}' \"$@\"\n");
        File.SetUnixFileMode(shim, (UnixFileMode)0b111_101_101);
        return $"{shims}:{path}";
    }

    /// <summary>
    /// No drill database on the server, no drill directory under the agent's TMPDIR, no process still running
    /// from one (a temporary cluster or redis-server names its directory on its command line), and no listener
    /// on a port the result names.
    /// </summary>
    private async Task AssertNothingLeftAsync(JsonElement? result)
    {
        var databases = await db.Postgres.QueryScalarAsync("postgres", "SELECT string_agg(datname, ',') FROM pg_database WHERE datname LIKE 'drill\\_%'");
        Assert.Equal("", databases);
        Assert.Empty(Directory.EnumerateFileSystemEntries(DrillTemp));
        var temp = DrillTemp;
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out _)) continue;
            string cmdline;
            try
            {
                cmdline = (await File.ReadAllTextAsync(Path.Combine(entry, "cmdline"))).Replace('\0', ' ');
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }
            Assert.DoesNotContain(temp, cmdline);
        }
        if (result == null) return;
        foreach (var source in Sources(result.Value).Values)
        {
            if (!source.TryGetProperty("restored_into", out var into)) continue;
            // Only what the drill started: a temporary database names the source's own server, which stays up.
            var port = Regex.Match(into.GetString()!, @"^temporary .*127\.0\.0\.1:(\d+)");
            if (port.Success) Assert.DoesNotContain(int.Parse(port.Groups[1].Value, CultureInfo.InvariantCulture), ListeningPorts());
        }
    }

    /// <summary>TCP ports in LISTEN state on this machine, from /proc/net/tcp and tcp6.</summary>
    private static HashSet<int> ListeningPorts()
    {
        var ports = new HashSet<int>();
        foreach (var file in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
            foreach (var line in File.ReadLines(file).Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields[3] == "0A") ports.Add(int.Parse(fields[1].Split(':')[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            }
        return ports;
    }
}
