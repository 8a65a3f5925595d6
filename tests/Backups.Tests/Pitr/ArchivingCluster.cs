using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Backups.Tests.Support;

namespace Backups.Tests.Pitr;

/// <summary>
/// A real PostgreSQL 15 archiving into a fresh repository the way the README sets it up: archive_command is
/// `wal-push` (run by the postgres account) talking to the resident archiver (run as root), after PostgreSQL's
/// own copy of each file (so that what the repository holds can be compared with what was archived); a run
/// config with one postgres-cluster source named "cluster"; and the means to recover the archive into a cluster
/// and query it, or to carry on from a recovered cluster that was promoted. The repository is local unless a
/// store is given (e.g. s3rver behind a fault proxy, or the workflow's).
/// </summary>
public sealed class ArchivingCluster : IAsyncDisposable
{
    public const string Password = "pitr-Secret-5d1c07";
    private readonly TempDir _dir = new();
    private readonly IReadOnlyDictionary<string, string> _storeEnvironment;
    private PostgresServer? _pg;
    private Archiver? _archiver;
    private readonly List<string> _earlierLogs = [];

    private readonly string? _caCert;
    private readonly string _sourceFields;

    private ArchivingCluster(string? repository, IReadOnlyDictionary<string, string>? storeEnvironment, string? caCert, string password, string sourceFields)
    {
        Directory.CreateDirectory(Shared);
        File.SetUnixFileMode(Shared, (UnixFileMode)0b111_101_101);
        Directory.CreateDirectory(Copies);
        File.SetUnixFileMode(Copies, (UnixFileMode)0b111_111_111);
        Repository = repository ?? _dir.Combine("repo");
        _storeEnvironment = storeEnvironment ?? new Dictionary<string, string>();
        (_caCert, RepositoryPassword, _sourceFields) = (caCert, password, sourceFields);
        Agent = new Agent(Repository, password, caCert, new Dictionary<string, string>(_storeEnvironment));
    }

    /// <summary>Reached by the postgres account (the socket, its copies of archived files, recovered clusters).</summary>
    public string Shared { get; } = Path.Combine("/tmp", "backups-pitr-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)));
    public string Socket => Path.Combine(Shared, "wal.sock");
    /// <summary>What archive_command copied before each push (also pushes that then failed).</summary>
    public string Copies => Path.Combine(Shared, "archived");
    public string Repository { get; }
    public string RepositoryPassword { get; }
    public string Config => _dir.Combine("config.json");
    public Agent Agent { get; }
    public PostgresServer Pg => _pg!;
    /// <summary>What every archiver started so far printed.</summary>
    public string ArchiverLog => string.Join("\n--- restarted\n", [.. _earlierLogs, _archiver?.Log ?? ""]);
    /// <summary>The config's source, as JSON: for another config that backs up the same cluster (the workflow's).</summary>
    public string SourceJson => $$"""
        { "name": "cluster", "kind": "postgres-cluster", "host": "{{Pg.Host}}", "port": {{Pg.Port}},
          "user": "{{Pg.User}}", "password": { "env": "CLUSTER_PASSWORD" }{{_sourceFields}} }
        """;
    /// <summary>What `run` needs besides the config: the source's password.</summary>
    public Dictionary<string, string> Environment => new() { ["CLUSTER_PASSWORD"] = Pg.Password };

    /// <param name="sourceFields">More fields of the source, as JSON members ("database": "app").</param>
    /// <param name="repository">A repository location (not yet initialized) instead of a local one.</param>
    /// <param name="storeEnvironment">What the programs need to reach it (credentials).</param>
    /// <param name="caCert">The CA certificate of an HTTPS store.</param>
    /// <param name="password">The repository's password.</param>
    public static async Task<ArchivingCluster> StartAsync(string sourceFields = "", string? repository = null,
        IReadOnlyDictionary<string, string>? storeEnvironment = null, string? caCert = null, string password = Password)
    {
        var cluster = new ArchivingCluster(repository, storeEnvironment, caCert, password, sourceFields);
        try
        {
            await cluster.Agent.RunOkAsync("init");
            cluster._pg = await PostgresServer.StartAsync($"""
                archive_mode = on
                archive_command = 'cp %p {cluster.Copies}/%f && {Agent.Program} wal-push --socket {cluster.Socket} %p'
                archive_timeout = 2
                """);
            await cluster.WriteConfigAsync();
            cluster.StartArchiver();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private Task WriteConfigAsync() => File.WriteAllTextAsync(Config, $$"""
        { "repository": "{{Repository}}", "password": { "value": "{{RepositoryPassword}}" }{{(_caCert == null ? "" : $", \"cacert\": \"{_caCert}\"")}},
          "sources": [ {{SourceJson}} ] }
        """);

    /// <summary>
    /// `pitr` to <paramref name="target"/> into a new cluster that replaces this one, as after a mistake: the
    /// server stops, the recovered one starts on the same configuration (archiving included), replays through the
    /// archiver, is promoted at the target to a new timeline, and archives into the same repository from then on.
    /// </summary>
    public async Task PromoteRecoveredAsync(string target)
    {
        await PostgresServer.RecoverAsync(Pg.Password, async recovered =>
        {
            var pitr = await Agent.RunAsync(["pitr", "--config", Config, "--to", target, "--pgdata", recovered.DataDirectory, "--socket", Socket]);
            if (pitr.ExitCode != 0) throw new InvalidOperationException($"pitr --to {target} exited {pitr.ExitCode}: {pitr.StdoutText}{pitr.Stderr}");
            // The old server goes first: two servers must never push into one archive.
            await Pg.DisposeAsync();
            KillArchiver();
            // The archiver reads ahead in the new server's pg_wal, and serves its restore_command: it must listen
            // before the server starts, whose recovery gives up when the first file cannot be fetched.
            _pg = recovered;
            StartArchiver();
            await ArchiverListeningAsync();
        });
        await WriteConfigAsync();
        // It accepts connections (read-only) once consistent, before it reaches the target and is promoted.
        for (var i = 0; await Pg.QueryScalarAsync("postgres", "SELECT pg_is_in_recovery()") == "t"; i++)
        {
            if (i == 600) throw new TimeoutException($"the recovered cluster was not promoted; the archiver said:\n{ArchiverLog}");
            await Task.Delay(100);
        }
    }

    /// <summary>SIGKILLs the archiver (no chance to finish a batch or answer a push).</summary>
    public void KillArchiver()
    {
        if (_archiver == null) return;
        _archiver.Dispose();
        _earlierLogs.Add(_archiver.Log);
        _archiver = null;
    }

    /// <summary>Starts the archiver, as its systemd unit does.</summary>
    public void StartArchiver()
    {
        var log = new StringBuilder();
        var process = Process.Start(Psi(Agent.Program, ["archiver", "--config", Config, "--socket", Socket, "--pgdata", Pg.DataDirectory], _storeEnvironment))!;
        process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        _archiver = new Archiver(process, log);
    }

    private async Task ArchiverListeningAsync()
    {
        for (var i = 0; i < 600; i++)
        {
            using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await probe.ConnectAsync(new UnixDomainSocketEndPoint(Socket));
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }
        throw new TimeoutException($"the archiver does not listen on {Socket}; it said:\n{ArchiverLog}");
    }

    /// <summary>Switches to a new WAL segment and waits until the one it ends is archived; returns its name.</summary>
    public async Task<string> SwitchAndWaitArchivedAsync(int seconds = 60)
    {
        var segment = await Pg.QueryScalarAsync("postgres", "SELECT pg_walfile_name(pg_switch_wal())");
        await WaitArchivedAsync(segment, seconds);
        return segment;
    }

    public async Task WaitArchivedAsync(string segment, int seconds = 60)
    {
        for (var i = 0; i < seconds * 10; i++)
        {
            var archived = await Pg.QueryScalarAsync("postgres", "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver");
            if (string.CompareOrdinal(archived, segment) >= 0) return;
            await Task.Delay(100);
        }
        throw new TimeoutException($"{segment} was not archived; archiver said:\n{ArchiverLog}");
    }

    /// <summary>A pgbench run against "app", started now.</summary>
    public Process StartLoad(params string[] args) =>
        Process.Start(Psi(PostgresServer.Tool("pgbench"), ["-n", .. args, "app"], Pg.ClientEnvironment))!;

    /// <summary>`pitr --start` to <paramref name="target"/> into a new data directory, then <paramref name="sql"/> on the
    /// recovered cluster's database "app" (tab-separated rows).</summary>
    public async Task<string> RecoverAndQueryAsync(string target, string sql)
    {
        var pgdata = Path.Combine(Shared, "recovered-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)));
        var result = await Agent.RunAsync(["pitr", "--config", Config, "--to", target, "--pgdata", pgdata, "--start"]);
        if (result.ExitCode != 0 || !result.StdoutText.Contains("recovered", StringComparison.Ordinal))
            throw new InvalidOperationException($"pitr --to {target} exited {result.ExitCode}: {result.StdoutText}{result.Stderr}");
        var sockets = Path.Combine(Shared, "s-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)));
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
        System.Environment.IsPrivilegedProcess ? Processes.RunAsync("runuser", ["-u", "postgres", "--", program, .. args], null, null, null, "/")
            : Processes.RunAsync(program, args);

    private static ProcessStartInfo Psi(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string> env)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        return psi;
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

    public async ValueTask DisposeAsync()
    {
        // PostgreSQL first: its archive_command must not meet a vanished archiver and retry meanwhile.
        if (_pg != null) await _pg.DisposeAsync();
        _archiver?.Dispose();
        _dir.Dispose();
        Directory.Delete(Shared, recursive: true);
    }
}
