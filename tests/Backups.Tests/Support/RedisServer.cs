using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Backups.Tests.Support;

/// <summary>
/// A throwaway redis-server on 127.0.0.1, optionally with a password. It never writes snapshots by itself, and
/// it streams one to `redis-cli --rdb` at once. Dispose stops it and deletes its directory.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private const string DumpFile = "dump.rdb";

    private readonly TempDir _dir;
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private bool _disposed;

    private RedisServer(TempDir dir, int port, string? password)
    {
        _dir = dir;
        Port = port;
        Password = password;
        // A retry on another port must not find the previous attempt's complaints.
        File.Delete(LogFile);
        File.WriteAllText(ConfigFile, Config());

        var psi = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dir.Path,
        };
        // Only the file name on the command line: the password stays out of every process list.
        psi.ArgumentList.Add(ConfigFile);
        _process = new Process { StartInfo = psi };
        // Redirected so that the server never holds the test runner's own output open; drained so it never blocks.
        _process.OutputDataReceived += Remember;
        _process.ErrorDataReceived += Remember;
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        ProcessId = _process.Id;
    }

    public string Host => "127.0.0.1";

    public int Port { get; }

    public string? Password { get; }

    /// <summary>The redis-server process (our child).</summary>
    public int ProcessId { get; }

    /// <summary>Holds the configuration, the log and any RDB file; removed on dispose.</summary>
    public string TempDirectory => _dir.Path;

    private string ConfigFile => _dir.Combine("redis.conf");

    private string LogFile => _dir.Combine("redis.log");

    /// <summary>redis-cli's arguments to reach this server, e.g. <c>[.. ClientArguments, "--rdb", "-"]</c>.</summary>
    public IReadOnlyList<string> ClientArguments => ["-h", Host, "-p", Port.ToString(CultureInfo.InvariantCulture)];

    /// <summary>For redis-cli as a child process: the password goes in REDISCLI_AUTH, never in -a.</summary>
    public Dictionary<string, string> ClientEnvironment =>
        Password == null ? [] : new() { ["REDISCLI_AUTH"] = Password };

    public static Task<RedisServer> StartAsync(string? password = null) => StartInAsync(new TempDir(), password);

    /// <summary>
    /// A new server (without a password) that loads a copy of the given RDB file at start, to prove that a backed-up
    /// snapshot is complete and valid. It fails to start if redis-server rejects the file.
    /// </summary>
    public static Task<RedisServer> LoadRdbAsync(string rdbPath)
    {
        var dir = new TempDir();
        File.Copy(rdbPath, dir.Combine(DumpFile));
        return StartInAsync(dir, password: null);
    }

    private static async Task<RedisServer> StartInAsync(TempDir dir, string? password)
    {
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                var server = new RedisServer(dir, FreePort.Next(), password);
                try
                {
                    await server.WaitUntilServingAsync();
                    return server;
                }
                catch (Exception e)
                {
                    await server.StopAsync();
                    if (attempt == FreePort.Attempts || !FreePort.WasTaken(e.Message)) throw;
                }
            }
        }
        catch
        {
            dir.Dispose();
            throw;
        }
    }

    private string Config()
    {
        var lines = new List<string>
        {
            $"bind {Host}",
            $"port {Port}",
            $"dir {Quote(_dir.Path)}",
            $"dbfilename {DumpFile}",
            $"logfile {Quote(LogFile)}",
            "save \"\"",
            "appendonly no",
            // Otherwise the server waits 5 s for more replicas before it streams a snapshot to `redis-cli --rdb`.
            "repl-diskless-sync-delay 0",
            // FillAsync uses DEBUG POPULATE, which redis-server refuses unless allowed (here: to local clients).
            "enable-debug-command local",
        };
        if (Password != null) lines.Add($"requirepass {Quote(Password)}");
        return string.Join('\n', lines) + "\n";
    }

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    private void Remember(object sender, DataReceivedEventArgs e)
    {
        if (e.Data != null) lock (_output) _output.AppendLine(e.Data);
    }

    /// <summary>
    /// Until PING answers PONG, not merely until the port opens: while an RDB file loads, the server is listening
    /// but answers LOADING.
    /// </summary>
    private async Task WaitUntilServingAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (_process.HasExited) throw new InvalidOperationException($"redis-server exited ({_process.ExitCode}):\n{Diagnostics()}");
            var ping = await RunCliAsync("PING");
            if (ping.StdoutText.Trim() == "PONG") return;
            if (DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"redis-server did not answer PING in time ({ping.StdoutText}{ping.Stderr}):\n{Diagnostics()}");
            await Task.Delay(10);
        }
    }

    private string Diagnostics()
    {
        string output;
        lock (_output) output = _output.ToString();
        var log = File.Exists(LogFile) ? string.Join('\n', File.ReadLines(LogFile).TakeLast(30)) : "(no log)";
        return $"{output}--- {LogFile}:\n{log}";
    }

    private Task<ProcessResult> RunCliAsync(params string[] args) =>
        Processes.RunAsync("redis-cli", [.. ClientArguments, .. args], ClientEnvironment);

    /// <summary>
    /// redis-cli's output without the final newline. redis-cli exits 0 on an error reply, so such a reply comes
    /// back as text ("ERR ...") rather than as an exception.
    /// </summary>
    public async Task<string> CliAsync(params string[] args) =>
        (await RunCliAsync(args)).EnsureSuccess("redis-cli " + string.Join(' ', args)).StdoutText.TrimEnd('\n');

    public async Task<long> DbSizeAsync(int db = 0) =>
        long.Parse(await CliAsync("-n", db.ToString(CultureInfo.InvariantCulture), "DBSIZE"), CultureInfo.InvariantCulture);

    /// <summary>Keys per database index, for the databases that hold any (from INFO keyspace).</summary>
    public async Task<Dictionary<int, long>> KeyCountsAsync()
    {
        var counts = new Dictionary<int, long>();
        // Lines such as "db0:keys=1000,expires=0,avg_ttl=0".
        foreach (var line in (await CliAsync("INFO", "keyspace")).Split('\n', StringSplitOptions.TrimEntries))
        {
            if (!line.StartsWith("db", StringComparison.Ordinal)) continue;
            var colon = line.IndexOf(':');
            var keys = line[(colon + 1)..].Split(',').Single(f => f.StartsWith("keys=", StringComparison.Ordinal));
            counts[int.Parse(line[2..colon], CultureInfo.InvariantCulture)] = long.Parse(keys["keys=".Length..], CultureInfo.InvariantCulture);
        }
        return counts;
    }

    /// <summary>Adds that many string keys to a database, all in one command.</summary>
    public async Task FillAsync(int keys, int db = 0)
    {
        // A new prefix for every call: DEBUG POPULATE skips names that exist, so a repeated prefix would add nothing.
        var prefix = "fill-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var reply = await CliAsync("-n", db.ToString(CultureInfo.InvariantCulture), "DEBUG", "POPULATE",
            keys.ToString(CultureInfo.InvariantCulture), prefix);
        if (reply != "OK") throw new InvalidOperationException($"DEBUG POPULATE {keys}: {reply}");
    }

    private async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            // NOSAVE: no final snapshot to wait for. The kill covers a server that does not listen to us.
            await RunCliAsync("SHUTDOWN", "NOSAVE");
            try
            {
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (TimeoutException)
            {
                _process.Kill();
                await _process.WaitForExitAsync();
            }
        }
        _process.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        await StopAsync();
        _dir.Dispose();
    }
}
