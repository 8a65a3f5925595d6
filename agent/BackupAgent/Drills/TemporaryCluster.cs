using System.Globalization;
using System.Security.Cryptography;

namespace BackupAgent.Drills;

/// <summary>
/// A throwaway PostgreSQL cluster: initdb into a drill directory, a free loopback port, its Unix socket in that
/// directory (the only way in: TCP requires a password that nobody has). Run by the postgres account when the
/// agent is root, since initdb refuses root. Dispose stops it (immediate mode: nothing in it is worth a
/// checkpoint) and deletes its files.
/// </summary>
public sealed class TemporaryCluster : IPostgresTarget
{
    private const string Superuser = "drill";
    private readonly DrillDirectory _dir;

    private TemporaryCluster(DrillDirectory dir) => _dir = dir;

    public int Port { get; private set; }
    public PostgresConnection Connection => new(_dir.Path, Port, Superuser, null, "postgres");
    public string Description => $"temporary cluster on 127.0.0.1:{Port} in {_dir.Path}";
    private string DataDirectory => _dir.Combine("data");

    public static async Task<TemporaryCluster> StartAsync(CancellationToken ct)
    {
        var cluster = new TemporaryCluster(new DrillDirectory());
        try
        {
            await cluster.InitAsync(ct);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private async Task InitAsync(CancellationToken ct)
    {
        if (Environment.IsPrivilegedProcess)
            (await ChildProcess.RunAsync("chown", [$"{PostgresPrograms.OsUser}:{PostgresPrograms.OsUser}", _dir.Path], null, null, ct)).EnsureSucceeded("preparing the cluster's directory");
        // A random password for TCP that nobody is told: the socket in our private directory is the only way in.
        var passwordFile = _dir.Combine("pwfile");
        await File.WriteAllTextAsync(passwordFile, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)) + "\n", ct);
        if (Environment.IsPrivilegedProcess)
            (await ChildProcess.RunAsync("chown", [$"{PostgresPrograms.OsUser}:{PostgresPrograms.OsUser}", passwordFile], null, null, ct)).EnsureSucceeded("preparing the cluster's directory");
        (await PostgresPrograms.AsOwnerAsync("initdb", ["-D", DataDirectory, "-U", Superuser, "--pwfile", passwordFile, "--auth-local=trust",
            "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"], ct)).EnsureSucceeded("initdb");
        File.Delete(passwordFile);
        for (var attempt = 1; ; attempt++)
        {
            Port = LoopbackPort.Free();
            // pg_ctl hands -o to a shell; the directory is ours, made by .NET without spaces or quotes.
            var start = await PostgresPrograms.AsOwnerAsync("pg_ctl", ["start", "-D", DataDirectory, "-l", _dir.Combine("server.log"), "-w", "-t", "60",
                "-o", $"-k {_dir.Path} -p {Port} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"], ct);
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
