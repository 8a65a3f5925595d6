using System.Globalization;
using System.Security.Cryptography;

namespace BackupAgent.Drills;

/// <summary>
/// A throwaway PostgreSQL cluster: initdb (or point-in-time recovery) into a drill directory, a free loopback port, its Unix socket in that
/// directory (the only way in: TCP requires a password that nobody has). Run by the postgres account when the
/// agent is root, since initdb refuses root. Dispose stops it (immediate mode: nothing in it is worth a
/// checkpoint) and deletes its files.
/// </summary>
public sealed class TemporaryCluster : IPostgresTarget
{
    private const string Superuser = "drill";
    private readonly DrillDirectory _dir;
    private readonly string _superuser;

    private TemporaryCluster(DrillDirectory dir, string superuser) => (_dir, _superuser) = (dir, superuser);

    public int Port { get; private set; }
    public PostgresConnection Connection => new(_dir.Path, Port, _superuser, null, "postgres");
    public string Description => $"temporary cluster on 127.0.0.1:{Port} in {_dir.Path}";
    private string DataDirectory => _dir.Combine("data");

    public static Task<TemporaryCluster> StartAsync(CancellationToken ct) => CreateAsync(Superuser, cluster => cluster.InitAsync(ct), ct);

    /// <summary>
    /// A cluster that <paramref name="recover"/> writes into the given data directory (point-in-time recovery),
    /// started with only local connections trusted, as <paramref name="role"/> (a role of the recovered
    /// cluster), and with archiving off: it must never push its WAL into the source's archive.
    /// </summary>
    public static Task<TemporaryCluster> RecoverAsync(string role, Func<string, Task> recover, CancellationToken ct) =>
        CreateAsync(role, async cluster =>
        {
            await recover(cluster.DataDirectory);
            // Overwritten in place, so the file keeps the owner the restore gave it.
            await File.WriteAllTextAsync(System.IO.Path.Combine(cluster.DataDirectory, "pg_hba.conf"), "local all all trust\n", ct);
        }, ct);

    private static async Task<TemporaryCluster> CreateAsync(string superuser, Func<TemporaryCluster, Task> prepare, CancellationToken ct)
    {
        var cluster = new TemporaryCluster(new DrillDirectory(), superuser);
        try
        {
            if (Environment.IsPrivilegedProcess) await OwnAsync(cluster._dir.Path, ct);
            await prepare(cluster);
            await cluster.LaunchAsync(ct);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private static async Task OwnAsync(string path, CancellationToken ct) =>
        (await ChildProcess.RunAsync("chown", [$"{PostgresPrograms.OsUser}:{PostgresPrograms.OsUser}", path], null, null, ct)).EnsureSucceeded("preparing the cluster's directory");

    private async Task InitAsync(CancellationToken ct)
    {
        // A random password for TCP that nobody is told: the socket in our private directory is the only way in.
        var passwordFile = _dir.Combine("pwfile");
        await File.WriteAllTextAsync(passwordFile, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)) + "\n", ct);
        if (Environment.IsPrivilegedProcess) await OwnAsync(passwordFile, ct);
        (await PostgresPrograms.AsOwnerAsync("initdb", ["-D", DataDirectory, "-U", Superuser, "--pwfile", passwordFile, "--auth-local=trust",
            "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"], ct)).EnsureSucceeded("initdb");
        File.Delete(passwordFile);
    }

    private async Task LaunchAsync(CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            Port = LoopbackPort.Free();
            // pg_ctl hands -o to a shell; the directory is ours, made by .NET without spaces or quotes.
            var start = await PostgresPrograms.AsOwnerAsync("pg_ctl", ["start", "-D", DataDirectory, "-l", _dir.Combine("server.log"), "-w", "-t", "60",
                "-o", $"-k {_dir.Path} -p {Port} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c archive_mode=off"], ct);
            if (start.ExitCode == 0) return;
            var log = File.Exists(_dir.Combine("server.log")) ? await File.ReadAllTextAsync(_dir.Combine("server.log"), ct) : "";
            if (attempt == LoopbackPort.Attempts || !LoopbackPort.WasTaken(log))
                start.EnsureSucceeded("starting the temporary cluster");
        }
    }

    private string PidFile => System.IO.Path.Combine(DataDirectory, "postmaster.pid");

    public async ValueTask DisposeAsync()
    {
        // Read first: pg_ctl may have been interrupted after the server started, and the kill below needs its id.
        var postmaster = File.Exists(PidFile) && int.TryParse(File.ReadLines(PidFile).FirstOrDefault(), CultureInfo.InvariantCulture, out var pid) ? pid : 0;
        if (Directory.Exists(DataDirectory))
            await PostgresPrograms.AsOwnerAsync("pg_ctl", ["stop", "-D", DataDirectory, "-m", "immediate", "-w", "-t", "30"], CancellationToken.None);
        if (postmaster != 0) KillIfRunning(postmaster);
        _dir.Dispose();
    }

    /// <summary>The postmaster detached from pg_ctl, so it is no child of ours; it is killed by id if pg_ctl could not stop it.</summary>
    private static void KillIfRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            if (process.ProcessName != "postgres") return;
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            // It has ended.
        }
    }
}
