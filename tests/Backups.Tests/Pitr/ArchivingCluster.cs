using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Backups.Tests.Support;

namespace Backups.Tests.Pitr;

/// <summary>
/// A real PostgreSQL 15 archiving through `wal-push` (as its own account) to a resident `archiver` (as this
/// process's user: root in CI), with PostgreSQL's own copy of every file it hands over beside the push, and the
/// means to recover the archive into a cluster and query it. Shared by the PITR tests.
/// </summary>
public sealed class ArchivingCluster : IAsyncDisposable
{
    // Reached by the postgres account (the socket, its copies of archived files, the recovered clusters).
    private readonly string _shared = Path.Combine("/tmp", "backups-pitr-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)));

    public PostgresServer Server { get; private set; } = null!;
    public string Socket => Path.Combine(_shared, "wal.sock");
    /// <summary>What archive_command copied before each push (also pushes that then failed).</summary>
    public string Copies => Path.Combine(_shared, "archived");
    public string Shared => _shared;

    private ArchivingCluster() { }

    public static async Task<ArchivingCluster> StartAsync()
    {
        var cluster = new ArchivingCluster();
        Directory.CreateDirectory(cluster._shared);
        File.SetUnixFileMode(cluster._shared, (UnixFileMode)0b111_101_101);
        Directory.CreateDirectory(cluster.Copies);
        File.SetUnixFileMode(cluster.Copies, (UnixFileMode)0b111_111_111);
        cluster.Server = await PostgresServer.StartAsync($"""
            archive_mode = on
            archive_command = 'cp %p {cluster.Copies}/%f && {Agent.Program} wal-push --socket {cluster.Socket} %p'
            archive_timeout = 2
            """);
        return cluster;
    }

    /// <summary>An agent config whose one source, "cluster", is this server.</summary>
    public async Task<string> WriteConfigAsync(string path, string repository, string password, string? caCert = null)
    {
        await File.WriteAllTextAsync(path, $$"""
            { "repository": "{{repository}}", "password": { "value": "{{password}}" }{{(caCert == null ? "" : $", \"cacert\": \"{caCert}\"")}},
              "sources": [ { "name": "cluster", "kind": "postgres-cluster", "host": "{{Server.Host}}", "port": {{Server.Port}},
                             "user": "{{Server.User}}", "password": { "env": "CLUSTER_PASSWORD" } } ] }
            """);
        return path;
    }

    /// <summary>What `run` needs besides the config: the cluster's password.</summary>
    public Dictionary<string, string> RunEnvironment => new() { ["CLUSTER_PASSWORD"] = Server.Password };

    public Archiver StartArchiver(string config, IReadOnlyDictionary<string, string>? env = null)
    {
        var log = new StringBuilder();
        var process = Process.Start(Psi(Agent.Program, ["archiver", "--config", config, "--socket", Socket, "--pgdata", Server.DataDirectory],
            env ?? new Dictionary<string, string>()))!;
        process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return new Archiver(process, log);
    }

    /// <summary>Waits until PostgreSQL reports <paramref name="segment"/> (or a later one) archived.</summary>
    public async Task WaitArchivedAsync(string segment, Func<string> log, int seconds = 60)
    {
        for (var i = 0; i < seconds * 10; i++)
        {
            var archived = await Server.QueryScalarAsync("postgres", "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver");
            if (string.CompareOrdinal(archived, segment) >= 0) return;
            await Task.Delay(100);
        }
        throw new TimeoutException($"{segment} was not archived; archiver said:\n{log()}");
    }

    /// <summary>Switches to a new segment and waits until the one switched from is archived; returns its name.</summary>
    public async Task<string> SwitchAndWaitAsync(Func<string> log, int seconds = 60)
    {
        var last = await Server.QueryScalarAsync("postgres", "SELECT pg_walfile_name(pg_switch_wal())");
        await WaitArchivedAsync(last, log, seconds);
        return last;
    }

    /// <summary>`pitr --start` to <paramref name="target"/> into a new data directory, then <paramref name="sql"/> on the
    /// recovered cluster's database "app" (tab-separated rows).</summary>
    public async Task<string> RecoverAndQueryAsync(Agent agent, string config, string target, string sql)
    {
        var pgdata = Path.Combine(_shared, "recovered-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)));
        var result = await agent.RunAsync(["pitr", "--config", config, "--to", target, "--pgdata", pgdata, "--start"]);
        if (result.ExitCode != 0 || !result.StdoutText.Contains("recovered", StringComparison.Ordinal))
            throw new InvalidOperationException($"pitr --to {target} exited {result.ExitCode}: {result.StdoutText}{result.Stderr}");
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

    /// <summary>A pgbench run against "app", started now.</summary>
    public Process StartLoad(params string[] args) =>
        Process.Start(Psi(PostgresServer.Tool("pgbench"), ["-n", .. args, "app"], Server.ClientEnvironment))!;

    private static Task<ProcessResult> AsPostgresAsync(string program, params string[] args) =>
        Environment.IsPrivilegedProcess ? Processes.RunAsync("runuser", ["-u", "postgres", "--", program, .. args], null, null, null, "/")
            : Processes.RunAsync(program, args);

    private static ProcessStartInfo Psi(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string> env)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        return psi;
    }

    public async ValueTask DisposeAsync()
    {
        if (Server != null) await Server.DisposeAsync();
        Directory.Delete(_shared, recursive: true);
    }

    /// <summary>The archiver process and what it printed.</summary>
    public sealed class Archiver(Process process, StringBuilder log) : IDisposable
    {
        public string Log { get { lock (log) return log.ToString(); } }

        /// <summary>SIGKILL: no chance to finish a batch or answer a push.</summary>
        public void Kill()
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        public void Dispose()
        {
            Kill();
            process.Dispose();
        }
    }
}
