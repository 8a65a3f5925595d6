using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Backups.Tests.Support;

namespace Backups.Tests.Pitr;

/// <summary>
/// A real PostgreSQL 15 archiving into a fresh repository the way the README sets it up: archive_command is
/// `wal-push` (run by the postgres account) talking to the resident archiver (run as root), after PostgreSQL's
/// own copy of each file (so that what the repository holds can be compared with what was archived); a run
/// config with one postgres-cluster source named "cluster".
/// </summary>
public sealed class ArchivingCluster : IAsyncDisposable
{
    public const string Password = "pitr-Secret-5d1c07";
    private readonly TempDir _dir = new();
    private PostgresServer? _pg;
    private Archiver? _archiver;

    private ArchivingCluster()
    {
        Directory.CreateDirectory(Shared);
        File.SetUnixFileMode(Shared, (UnixFileMode)0b111_101_101);
        Directory.CreateDirectory(Copies);
        File.SetUnixFileMode(Copies, (UnixFileMode)0b111_111_111);
        Agent = new Agent(Repository, Password);
    }

    /// <summary>Reached by the postgres account (the socket, its copies of archived files, recovered clusters).</summary>
    public string Shared { get; } = Path.Combine("/tmp", "backups-pitr-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)));
    public string Socket => Path.Combine(Shared, "wal.sock");
    public string Copies => Path.Combine(Shared, "archived");
    public string Repository => _dir.Combine("repo");
    public string Config => _dir.Combine("config.json");
    public Agent Agent { get; }
    public PostgresServer Pg => _pg!;
    public string ArchiverLog => _archiver!.Log;
    /// <summary>What `run` needs besides the config: the source's password.</summary>
    public Dictionary<string, string> Environment => new() { ["CLUSTER_PASSWORD"] = Pg.Password };

    /// <param name="sourceFields">More fields of the source, as JSON members ("database": "app").</param>
    public static async Task<ArchivingCluster> StartAsync(string sourceFields = "")
    {
        var cluster = new ArchivingCluster();
        try
        {
            await cluster.Agent.RunOkAsync("init");
            cluster._pg = await PostgresServer.StartAsync($"""
                archive_mode = on
                archive_command = 'cp %p {cluster.Copies}/%f && {Agent.Program} wal-push --socket {cluster.Socket} %p'
                archive_timeout = 2
                """);
            await File.WriteAllTextAsync(cluster.Config, $$"""
                { "repository": "{{cluster.Repository}}", "password": { "value": "{{Password}}" },
                  "sources": [ { "name": "cluster", "kind": "postgres-cluster", "host": "{{cluster.Pg.Host}}", "port": {{cluster.Pg.Port}},
                                 "user": "{{cluster.Pg.User}}", "password": { "env": "CLUSTER_PASSWORD" }{{sourceFields}} } ] }
                """);
            cluster._archiver = cluster.StartArchiver();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Switches to a new WAL segment and waits until the one it ends is archived; returns its name.</summary>
    public async Task<string> SwitchAndWaitArchivedAsync()
    {
        var segment = await Pg.QueryScalarAsync("postgres", "SELECT pg_walfile_name(pg_switch_wal())");
        await WaitArchivedAsync(segment);
        return segment;
    }

    public async Task WaitArchivedAsync(string segment)
    {
        for (var i = 0; i < 600; i++)
        {
            var archived = await Pg.QueryScalarAsync("postgres", "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver");
            if (string.CompareOrdinal(archived, segment) >= 0) return;
            await Task.Delay(100);
        }
        throw new TimeoutException($"{segment} was not archived; archiver said:\n{ArchiverLog}");
    }

    public static Task<ProcessResult> AsPostgresAsync(string program, params string[] args) =>
        System.Environment.IsPrivilegedProcess ? Processes.RunAsync("runuser", ["-u", "postgres", "--", program, .. args], null, null, null, "/")
            : Processes.RunAsync(program, args);

    public static ProcessStartInfo Psi(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string> env)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        return psi;
    }

    private Archiver StartArchiver()
    {
        var log = new StringBuilder();
        var process = Process.Start(Psi(Agent.Program, ["archiver", "--config", Config, "--socket", Socket, "--pgdata", Pg.DataDirectory], new Dictionary<string, string>()))!;
        process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return new Archiver(process, log);
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
