using System.Diagnostics;
using System.Runtime.InteropServices;
using Backups.Tests.Support;

namespace Backups.Tests.CrashSafety;

/// <summary>
/// `backup-agent backup --stdin` as a running process that a test can feed and kill (SIGKILL: no cleanup of any
/// kind runs, as when a machine loses power or the OOM killer strikes).
/// </summary>
public sealed class BackupProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Task _feeding, _stdout;
    private readonly Task<string> _stderr;
    private readonly CancellationTokenSource _exited = new();

    private BackupProcess(Process process, Func<Stream, CancellationToken, Task> feed)
    {
        _process = process;
        _stdout = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
        _stderr = process.StandardError.ReadToEndAsync();
        _feeding = Task.Run(async () =>
        {
            try
            {
                await feed(process.StandardInput.BaseStream, _exited.Token);
                process.StandardInput.Close();
            }
            catch (Exception e) when (e is IOException or OperationCanceledException) { /* it ended while we were writing */ }
        });
    }

    /// <summary>Starts a backup of what <paramref name="feed"/> writes (stdin is closed when it returns; its token
    /// is cancelled when the process has ended).</summary>
    public static BackupProcess Start(Agent agent, string filename, Func<Stream, CancellationToken, Task> feed)
    {
        var psi = new ProcessStartInfo(Agent.Program)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in new[] { "backup", "--stdin", "--stdin-filename", filename }) psi.ArgumentList.Add(a);
        foreach (var (k, v) in agent.Environment()) psi.Environment[k] = v;
        return new BackupProcess(Process.Start(psi)!, feed);
    }

    public static BackupProcess Start(Agent agent, string filename, TestData data) =>
        Start(agent, filename, async (stdin, ct) =>
        {
            await using (data) await data.CopyToAsync(stdin, 1 << 20, ct);
        });

    public bool HasExited => _process.HasExited;

    public const int SIGINT = 2, SIGTERM = 15;

    /// <summary>Sends a signal, as Ctrl-C (SIGINT) or kill/systemd/docker stop (SIGTERM) do.</summary>
    public void Signal(int signal)
    {
        if (kill(_process.Id, signal) != 0)
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    /// <summary>Waits until the backup ends by itself, or kills it after <paramref name="killAfter"/>.</summary>
    /// <returns>Whether it was killed, its exit code and its stderr.</returns>
    public async Task<(bool Killed, int ExitCode, string Stderr)> FinishAsync(TimeSpan? killAfter = null)
    {
        var exited = _process.WaitForExitAsync();
        var killed = false;
        if (killAfter is { } delay && await Task.WhenAny(exited, Task.Delay(delay)) != exited)
        {
            try
            {
                _process.Kill();
                killed = true;
            }
            catch (InvalidOperationException) { /* it ended just now */ }
        }
        await exited;
        await _exited.CancelAsync();
        await Task.WhenAll(_feeding, _stdout);
        return (killed, _process.ExitCode, await _stderr);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        _exited.Dispose();
    }
}
