using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Pitr;

/// <summary>
/// Point-in-time recovery end to end on a real PostgreSQL 15 under a pgbench load: PostgreSQL archives through
/// `wal-push` (as its own account) to the resident archiver (as root), the nightly run takes a base backup, and
/// `pitr --start` recovers to moments around a marker row and to the end of the archive.
/// </summary>
public sealed class PointInTimeRecoveryTests : IDisposable
{
    private const string Password = "pitr-Secret-5d1c07";
    private readonly TempDir _dir = new();
    // Reached by the postgres account (the socket, its copies of archived files, the recovered clusters).
    private readonly string _shared = Path.Combine("/tmp", "backups-pitr-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)));

    public PointInTimeRecoveryTests()
    {
        Directory.CreateDirectory(_shared);
        File.SetUnixFileMode(_shared, (UnixFileMode)0b111_101_101);
        Directory.CreateDirectory(Copies);
        File.SetUnixFileMode(Copies, (UnixFileMode)0b111_111_111);
    }

    public void Dispose()
    {
        _dir.Dispose();
        Directory.Delete(_shared, recursive: true);
    }

    private string Socket => Path.Combine(_shared, "wal.sock");
    private string Copies => Path.Combine(_shared, "archived");

    [Fact]
    public async Task recovery_reaches_moments_around_a_marker_row_and_the_end_of_the_archive()
    {
        var repo = _dir.Combine("repo");
        var agent = new Agent(repo, Password);
        await agent.RunOkAsync("init");
        // PostgreSQL's own copy beside the push, so that what restic dumps can be compared with what was archived.
        await using var pg = await PostgresServer.StartAsync($"""
            archive_mode = on
            archive_command = 'cp %p {Copies}/%f && {Agent.Program} wal-push --socket {Socket} %p'
            archive_timeout = 2
            """);
        var config = _dir.Combine("config.json");
        await File.WriteAllTextAsync(config, $$"""
            { "repository": "{{repo}}", "password": { "value": "{{Password}}" },
              "sources": [ { "name": "cluster", "kind": "postgres-cluster", "host": "{{pg.Host}}", "port": {{pg.Port}},
                             "user": "{{pg.User}}", "password": { "env": "CLUSTER_PASSWORD" } } ] }
            """);
        var env = new Dictionary<string, string> { ["CLUSTER_PASSWORD"] = pg.Password };
        using var archiver = StartArchiver(config, pg.DataDirectory);

        await pg.CreateDatabaseAsync("app");
        await pg.PgbenchInitAsync("app", scale: 1);
        await pg.ExecAsync("app", "CREATE TABLE marker (note text)");
        var run = await agent.RunAsync(["run", "--config", config], extraEnv: env);
        Assert.True(run.ExitCode == 0, run.StdoutText + run.Stderr + archiver.Log);

        using var load = Process.Start(Psi(PostgresServer.Tool("pgbench"), ["-n", "-c", "2", "-T", "9", "app"], pg.ClientEnvironment))!;
        await Task.Delay(2000);
        await pg.ExecAsync("app", "INSERT INTO marker VALUES ('T1')");
        var t1 = await pg.QueryScalarAsync("app", "SELECT now()");
        await Task.Delay(2500);
        await pg.ExecAsync("app", "DELETE FROM marker");
        var t2 = await pg.QueryScalarAsync("app", "SELECT now()");
        await load.WaitForExitAsync();
        Assert.Equal(0, load.ExitCode);
        var counts = await pg.RowCountsAsync("app");
        var last = await pg.QueryScalarAsync("app", "SELECT pg_walfile_name(pg_switch_wal())");
        await WaitArchivedAsync(pg, last, archiver);

        // A target before the only base backup is refused before anything is written.
        var early = Path.Combine(_shared, "early");
        var refused = await agent.RunAsync(["pitr", "--config", config, "--to", "2000-01-01 00:00:00+00", "--pgdata", early]);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("before the oldest base backup", refused.Stderr);
        Assert.False(Directory.Exists(early));

        Assert.Equal("1", await RecoverAndQueryAsync(agent, config, t1, "SELECT count(*) FROM marker"));
        Assert.Equal("0", await RecoverAndQueryAsync(agent, config, t2, "SELECT count(*) FROM marker"));
        var latest = await RecoverAndQueryAsync(agent, config, "latest", PostgresServer.RowCountsSql);
        Assert.Equal(counts, PostgresServer.ParseRowCounts(latest));

        // Stock restic reads it all, and dumps an archived segment byte for byte as PostgreSQL handed it over.
        var restic = new Restic(repo, Password);
        await restic.CheckAsync(readData: true);
        var walSnapshot = (await restic.JsonAsync("snapshots", "--tag", "wal")).EnumerateArray().Last().GetProperty("id").GetString()!;
        var names = (await restic.RunOkAsync("ls", walSnapshot)).StdoutText.Split('\n').Where(l => l.StartsWith('/')).Select(l => l[1..]).ToList();
        Assert.NotEmpty(names);
        using var dumped = new MemoryStream();
        (await restic.RunAsync(["dump", walSnapshot, names[0]], stdout: dumped)).EnsureSuccess("restic dump");
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(Copies, names[0])), dumped.ToArray());

        // The same segment pushed again is fine; a different file under its name is refused loudly.
        var copy = Path.Combine(_shared, names[0]);
        File.Copy(Path.Combine(Copies, names[0]), copy);
        Assert.Equal(0, (await agent.RunAsync(["wal-push", "--socket", Socket, copy])).ExitCode);
        await using (var f = File.OpenWrite(copy)) { f.Position = 100; f.WriteByte(0xFF); f.WriteByte(0x00); }
        var different = await agent.RunAsync(["wal-push", "--socket", Socket, copy]);
        Assert.NotEqual(0, different.ExitCode);
        Assert.Contains("different content", different.Stderr);
    }

    private async Task<string> RecoverAndQueryAsync(Agent agent, string config, string target, string sql)
    {
        var pgdata = Path.Combine(_shared, "recovered-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)));
        var result = await agent.RunAsync(["pitr", "--config", config, "--to", target, "--pgdata", pgdata, "--start"]);
        Assert.True(result.ExitCode == 0, $"pitr --to {target}: {result.StdoutText}{result.Stderr}");
        Assert.Contains("recovered", result.StdoutText);
        var sockets = Path.Combine(_shared, "s-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)));
        Directory.CreateDirectory(sockets);
        File.SetUnixFileMode(sockets, (UnixFileMode)0b111_111_111);
        var port = FreePort.Next();
        (await AsPostgresAsync(PostgresServer.Tool("pg_ctl"), "start", "-D", pgdata, "-l", Path.Combine(sockets, "log"), "-w", "-t", "60",
            "-o", $"-k {sockets} -p {port} -c listen_addresses='' -c archive_mode=off")).EnsureSuccess("starting the recovered cluster");
        try
        {
            var query = await AsPostgresAsync(PostgresServer.Tool("psql"), "-X", "-A", "-t", "-F", "\t", "-h", sockets, "-p", port.ToString(CultureInfo.InvariantCulture),
                "-U", "postgres", "-d", "app", "-c", sql);
            return query.EnsureSuccess("querying the recovered cluster").StdoutText.Trim();
        }
        finally
        {
            await AsPostgresAsync(PostgresServer.Tool("pg_ctl"), "stop", "-D", pgdata, "-m", "immediate", "-w");
        }
    }

    private static Task<ProcessResult> AsPostgresAsync(string program, params string[] args) =>
        Environment.IsPrivilegedProcess ? Processes.RunAsync("runuser", ["-u", "postgres", "--", program, .. args], null, null, null, "/")
            : Processes.RunAsync(program, args);

    private static async Task WaitArchivedAsync(PostgresServer pg, string segment, Archiver archiver)
    {
        for (var i = 0; i < 600; i++)
        {
            var archived = await pg.QueryScalarAsync("postgres", "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver");
            if (string.CompareOrdinal(archived, segment) >= 0) return;
            await Task.Delay(100);
        }
        throw new TimeoutException($"{segment} was not archived; archiver said:\n{archiver.Log}");
    }

    private sealed class Archiver(Process process, StringBuilder log) : IDisposable
    {
        public string Log { get { lock (log) return log.ToString(); } }

        public void Dispose()
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.WaitForExit();
            process.Dispose();
        }
    }

    private Archiver StartArchiver(string config, string dataDirectory)
    {
        var log = new StringBuilder();
        var process = Process.Start(Psi(Agent.Program, ["archiver", "--config", config, "--socket", Socket, "--pgdata", dataDirectory], new Dictionary<string, string>()))!;
        process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return new Archiver(process, log);
    }

    private static ProcessStartInfo Psi(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string> env)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        return psi;
    }
}
