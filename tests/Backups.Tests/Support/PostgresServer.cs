using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Backups.Tests.Support;

/// <summary>
/// A throwaway PostgreSQL 15 cluster on 127.0.0.1 that requires a password (SCRAM) over TCP, as a real server
/// does for pg_dump. Each call starts a new cluster; dispose stops it and deletes its files.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    public const string BinDirectory = "/usr/lib/postgresql/15/bin";

    /// <summary>The operating-system account that owns the cluster when the tests run as root.</summary>
    private const string OsUser = "postgres";

    private bool _disposed;

    private PostgresServer(string tempDirectory, string? password = null)
    {
        TempDirectory = tempDirectory;
        Password = password ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
    }

    public string Host => "127.0.0.1";

    public int Port { get; private set; }

    /// <summary>The database superuser (whatever account runs the tests).</summary>
    public string User => "postgres";

    public string Password { get; }

    /// <summary>The postmaster's process id (0 until it runs). It is not our child: pg_ctl detaches it.</summary>
    public int ProcessId { get; private set; }

    /// <summary>Holds the cluster, its Unix socket and the server log; removed on dispose.</summary>
    public string TempDirectory { get; }

    public string DataDirectory => Path.Combine(TempDirectory, "data");

    private string LogFile => Path.Combine(TempDirectory, "postgres.log");

    /// <summary>libpq settings for client programs (psql, pg_dump, pg_restore, pgbench) run as children.</summary>
    public Dictionary<string, string> ClientEnvironment => new()
    {
        ["PGHOST"] = Host,
        ["PGPORT"] = Port.ToString(CultureInfo.InvariantCulture),
        ["PGUSER"] = User,
        ["PGPASSWORD"] = Password,
    };

    /// <summary>A PostgreSQL 15 program by name (pg_dump, pg_restore, psql, ...), independent of PATH.</summary>
    public static string Tool(string name) => Path.Combine(BinDirectory, name);

    /// <param name="configuration">Lines added to postgresql.conf before the first start (archiving, for one).</param>
    public static Task<PostgresServer> StartAsync(string? configuration = null) =>
        LaunchedAsync(new PostgresServer(CreateTempDirectory()), async server =>
        {
            await server.InitDbAsync();
            if (configuration != null) await File.AppendAllTextAsync(Path.Combine(server.DataDirectory, "postgresql.conf"), "\n" + configuration + "\n");
        });

    /// <summary>
    /// A server on a data directory that <paramref name="prepare"/> writes (a recovery) instead of initdb;
    /// <paramref name="password"/> is the one its roles already have.
    /// </summary>
    public static Task<PostgresServer> RecoverAsync(string password, Func<PostgresServer, Task> prepare) =>
        LaunchedAsync(new PostgresServer(CreateTempDirectory(), password), async server =>
        {
            await server.OwnTempDirectoryAsync();
            await prepare(server);
        });

    /// <summary>Prepares the data directory, starts the server and waits until it answers; disposed if any of it fails.</summary>
    private static async Task<PostgresServer> LaunchedAsync(PostgresServer server, Func<PostgresServer, Task> prepare)
    {
        try
        {
            await prepare(server);
            await server.LaunchAsync();
            await server.WaitUntilReadyAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Under /tmp rather than $TMPDIR: the postgres account must be able to reach it, and the socket path inside
    /// must stay within the 107 bytes of a Unix socket address.
    /// </summary>
    private static string CreateTempDirectory()
    {
        var path = Path.Combine("/tmp", "backups-pg-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)));
        Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private async Task OwnTempDirectoryAsync()
    {
        if (Environment.IsPrivilegedProcess)
            (await Processes.RunAsync("chown", [$"{OsUser}:{OsUser}", TempDirectory])).EnsureSuccess("chown");
    }

    private async Task InitDbAsync()
    {
        await OwnTempDirectoryAsync();

        // The password goes through a file, not the command line, so that no process list shows it.
        var passwordFile = Path.Combine(TempDirectory, "password");
        await File.WriteAllTextAsync(passwordFile, Password + "\n");
        try
        {
            // Local (socket) connections are trusted: the socket lies in a directory only the owner and root can enter.
            (await AsOwnerAsync("initdb", "-D", DataDirectory, "-U", User, "--pwfile", passwordFile,
                "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C",
                "--no-sync", "--no-instructions")).EnsureSuccess("initdb");
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }

    private async Task LaunchAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort.Next();
            // pg_ctl hands -o to a shell; every path here is ours and free of spaces and quotes.
            var result = await AsOwnerAsync("pg_ctl", "start", "-D", DataDirectory, "-l", LogFile, "-w", "-t", "30",
                "-o", $"-k {TempDirectory} -p {Port} -c listen_addresses={Host} -c fsync=off");
            if (result.ExitCode == 0) break;
            var log = LogTail();
            if (attempt == FreePort.Attempts || !FreePort.WasTaken(log))
                throw new InvalidOperationException(
                    $"PostgreSQL did not start (pg_ctl exited {result.ExitCode}): {result.Stderr}\n--- {LogFile}:\n{log}");
        }
        ProcessId = int.Parse(File.ReadLines(Path.Combine(DataDirectory, "postmaster.pid")).First(), CultureInfo.InvariantCulture);
    }

    /// <summary>Stops the server with a clean shutdown (a shutdown checkpoint, nothing left to replay) and keeps its
    /// files until disposed, so that its data directory can be copied (<see cref="CopyAsync"/>) or started again.</summary>
    public async Task StopAsync()
    {
        (await AsOwnerAsync("pg_ctl", "stop", "-D", DataDirectory, "-m", "fast", "-w", "-t", "120")).EnsureSuccess("pg_ctl stop");
        ProcessId = 0;
    }

    /// <summary>
    /// A new server on a copy (cp -a) of this stopped server's data directory, not started yet: the same cluster
    /// (system identifier, WAL, archive status) with the same superuser password, plus <paramref name="configuration"/>
    /// added to its postgresql.conf. <see cref="ResumeAsync"/> starts it.
    /// </summary>
    public async Task<PostgresServer> CopyAsync(string? configuration = null)
    {
        if (ProcessId != 0) throw new InvalidOperationException("the server must be stopped before its data directory is copied");
        var copy = new PostgresServer(CreateTempDirectory(), Password);
        try
        {
            if (Environment.IsPrivilegedProcess)
                (await Processes.RunAsync("chown", [$"{OsUser}:{OsUser}", copy.TempDirectory])).EnsureSuccess("chown");
            (await Processes.RunAsync("cp", ["-a", DataDirectory, copy.DataDirectory], timeout: TimeSpan.FromMinutes(30))).EnsureSuccess("copying the data directory");
            if (configuration != null) await File.AppendAllTextAsync(Path.Combine(copy.DataDirectory, "postgresql.conf"), "\n" + configuration + "\n");
            return copy;
        }
        catch
        {
            await copy.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts a stopped server (or a copy) on a free port and waits until it accepts connections.</summary>
    public async Task ResumeAsync()
    {
        await LaunchAsync();
        await WaitUntilReadyAsync();
    }

    /// <summary>pg_ctl -w saw the server accept connections on its socket; this proves the TCP listener the tests use.</summary>
    private async Task WaitUntilReadyAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var result = await Processes.RunAsync(Tool("pg_isready"), ["-d", "postgres"], ClientEnvironment);
            if (result.ExitCode == 0) return;
            if (DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"PostgreSQL is not ready on {Host}:{Port}: {result.StdoutText}\n--- {LogFile}:\n{LogTail()}");
            await Task.Delay(50);
        }
    }

    private string LogTail() =>
        File.Exists(LogFile) ? string.Join('\n', File.ReadLines(LogFile).TakeLast(30)) : "(no log)";

    /// <summary>initdb refuses to run as root, and the cluster's files must belong to the account that runs the server.</summary>
    private Task<ProcessResult> AsOwnerAsync(string tool, params string[] args) =>
        Environment.IsPrivilegedProcess
            ? Processes.RunAsync("runuser", ["-u", OsUser, "--", Tool(tool), .. args], workingDirectory: TempDirectory)
            : Processes.RunAsync(Tool(tool), args, workingDirectory: TempDirectory);

    /// <summary>Runs SQL (any number of statements, stopping at the first error) through psql.</summary>
    public Task ExecAsync(string database, string sql) => PsqlAsync(database, sql);

    /// <summary>The value a query returns (one row, one column), as psql prints it.</summary>
    public async Task<string> QueryScalarAsync(string database, string sql)
    {
        var output = await PsqlAsync(database, sql);
        return output.EndsWith('\n') ? output[..^1] : output;
    }

    public Task CreateDatabaseAsync(string name) => ExecAsync("postgres", $"CREATE DATABASE {QuoteIdentifier(name)}");

    /// <summary>Every user table's exact row count, one "schema.table TAB count" line each.</summary>
    public const string RowCountsSql = """
        SELECT schemaname || '.' || tablename,
               (xpath('/row/n/text()', query_to_xml(
                   format('SELECT count(*) AS n FROM %I.%I', schemaname, tablename), false, true, '')))[1]::text
        FROM pg_tables
        WHERE schemaname <> 'information_schema' AND schemaname !~ '^pg_'
        """;

    /// <summary>Every user table's exact row count, keyed by "schema.table".</summary>
    public async Task<Dictionary<string, long>> RowCountsAsync(string database) => ParseRowCounts(await PsqlAsync(database, RowCountsSql));

    public static Dictionary<string, long> ParseRowCounts(string lines)
    {
        var counts = new Dictionary<string, long>();
        foreach (var line in lines.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split('\t');
            counts[fields[0]] = long.Parse(fields[1], CultureInfo.InvariantCulture);
        }
        return counts;
    }

    /// <summary>pgbench's tables; scale 1 is 100,000 accounts, scale 20 makes a plain dump of about 194 MB.</summary>
    public async Task PgbenchInitAsync(string database, int scale) =>
        (await Processes.RunAsync(Tool("pgbench"), ["-i", "-q", "-s", scale.ToString(CultureInfo.InvariantCulture), database],
            ClientEnvironment)).EnsureSuccess($"pgbench -i -s {scale} {database}");

    /// <summary>Unaligned, tab-separated rows without headers; the SQL goes through stdin, so any length works.</summary>
    private async Task<string> PsqlAsync(string database, string sql)
    {
        using var input = new MemoryStream(Encoding.UTF8.GetBytes(sql));
        var result = await Processes.RunAsync(Tool("psql"),
            ["-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", database, "-f", "-"],
            ClientEnvironment, input);
        return result.EnsureSuccess($"psql on {database}").StdoutText;
    }

    private static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"") + "\"";

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        if (Directory.Exists(DataDirectory))
        {
            // The exit code does not matter: a server that never started has nothing to stop, and one that does not
            // stop is killed below.
            await AsOwnerAsync("pg_ctl", "stop", "-D", DataDirectory, "-m", "immediate", "-w", "-t", "10");
        }
        if (ProcessId != 0) await ProcessIds.KillAsync(ProcessId);
        Directory.Delete(TempDirectory, recursive: true);
    }
}

/// <summary>Processes known only by their id, such as a server that detached from the program that started it.</summary>
public static class ProcessIds
{
    /// <summary>False once the process has ended, even while it lingers as a zombie that no parent has reaped.</summary>
    public static bool IsRunning(int pid) => Status(pid) is [var state, ..] && state is not ("Z" or "X");

    /// <summary>The running processes whose parent is the given one.</summary>
    public static IEnumerable<int> ChildrenOf(int parent)
    {
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(entry), CultureInfo.InvariantCulture, out var pid)
                && Status(pid) is [var state, var ppid, ..]
                && ppid == parent.ToString(CultureInfo.InvariantCulture)
                && state is not ("Z" or "X"))
                yield return pid;
        }
    }

    /// <summary>The fields of /proc/PID/stat after the command name (state, parent, ...); null once the process is gone.</summary>
    private static string[]? Status(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            // Not found, or ESRCH: the process ended between the listing of /proc and this read.
            return null;
        }
        // "pid (command) state ppid ...", where the command itself may contain spaces and parentheses.
        return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
    }

    /// <summary>SIGKILL, then wait until the process has ended.</summary>
    public static async Task KillAsync(int pid)
    {
        if (!IsRunning(pid)) return;
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return; // it ended by itself meanwhile
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (IsRunning(pid))
        {
            if (DateTime.UtcNow > deadline) throw new InvalidOperationException($"process {pid} survived SIGKILL");
            await Task.Delay(20);
        }
    }
}
