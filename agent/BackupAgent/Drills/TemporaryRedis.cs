using System.Globalization;
using System.Security.Cryptography;

namespace BackupAgent.Drills;

/// <summary>
/// A throwaway redis-server on a free loopback port that loads an RDB file from a drill directory at start,
/// with a random password (other users of the box must not read the restored data meanwhile) and no
/// persistence of its own. Dispose stops it and deletes the directory.
/// </summary>
public sealed class TemporaryRedis : IAsyncDisposable
{
    public const string RdbFile = "dump.rdb";
    private readonly DrillDirectory _dir;
    private ChildProcess? _server;

    public TemporaryRedis(DrillDirectory dir) => _dir = dir;

    public int Port { get; private set; }
    public string Password { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
    public string Description => $"temporary redis-server on 127.0.0.1:{Port}";
    public string RdbPath => _dir.Combine(RdbFile);
    private string LogFile => _dir.Combine("redis.log");

    /// <summary>Starts on the RDB file and waits until it is loaded (until then the server answers LOADING).</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            Port = LoopbackPort.Free();
            File.Delete(LogFile);
            var config = _dir.Combine("redis.conf");
            await File.WriteAllLinesAsync(config,
            [
                "bind 127.0.0.1", $"port {Port}", $"dir \"{_dir.Path}\"", $"dbfilename {RdbFile}", $"logfile \"{LogFile}\"",
                "save \"\"", "appendonly no", $"requirepass {Password}",
            ], ct);
            // Only the file's name on the command line: the password stays out of the process list.
            _server = ChildProcess.Start("redis-server", [config], workingDirectory: _dir.Path);
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(30);
            while (true)
            {
                if (_server.HasExited) break;
                var ping = await ChildProcess.RunAsync("redis-cli", ["-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "PING"],
                    new Dictionary<string, string> { ["REDISCLI_AUTH"] = Password }, null, ct);
                if (ping.Stdout.Trim() == "PONG") return;
                if (DateTime.UtcNow > deadline) throw new DrillStepException("redis-server did not load the RDB file within 30 minutes");
                await Task.Delay(20, ct);
            }
            var log = File.Exists(LogFile) ? await File.ReadAllLinesAsync(LogFile, ct) : [];
            await StopAsync();
            if (attempt == LoopbackPort.Attempts || !LoopbackPort.WasTaken(string.Join('\n', log)))
            {
                // Warnings read "PID:ROLE DATE TIME # text"; the text is the reason.
                var warning = log.LastOrDefault(l => l.Contains(" # ", StringComparison.Ordinal));
                throw new DrillStepException("redis-server did not start on the restored RDB file: " +
                    (warning?[(warning.IndexOf(" # ", StringComparison.Ordinal) + 3)..] ?? log.LastOrDefault() ?? "no log").Trim());
            }
        }
    }

    private async Task StopAsync()
    {
        if (_server == null) return;
        if (!_server.HasExited)
        {
            // SHUTDOWN NOSAVE: nothing of it is kept; the kill on dispose covers a server that does not answer.
            await ChildProcess.RunAsync("redis-cli", ["-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "SHUTDOWN", "NOSAVE"],
                new Dictionary<string, string> { ["REDISCLI_AUTH"] = Password }, null, CancellationToken.None);
            try
            {
                await _server.WaitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (TimeoutException)
            {
                // Killed by Dispose.
            }
        }
        _server.Dispose();
        _server = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _dir.Dispose();
    }
}
