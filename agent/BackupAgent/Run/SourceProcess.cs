using System.Diagnostics;
using Backups.Aws.Secrets;

namespace BackupAgent.Run;

/// <summary>
/// A source program (pg_dump, redis-cli, or the user's command) whose standard output is the backup.
/// Arguments go as a list, never through a shell; secrets go only into its environment, and the
/// repository password and task token of this process are removed from what it inherits.
/// </summary>
public sealed class SourceProcess : IDisposable
{
    // What the child must not inherit: it needs none of them, and /proc/PID/environ is readable by its user.
    internal static readonly string[] Withheld = ["RESTIC_PASSWORD", "RESTIC_PASSWORD_COMMAND", TaskReporter.TokenVariable];

    private readonly Process _process;
    private readonly StderrTail _stderr;
    private readonly Redactor _redactor;

    public string Program { get; }
    public Stream Output => _process.StandardOutput.BaseStream;

    private SourceProcess(Process process, string program, Redactor redactor)
    {
        _process = process;
        Program = program;
        _redactor = redactor;
        _stderr = new StderrTail(process.StandardError);
    }

    public static SourceProcess Start(IReadOnlyList<string> command, IReadOnlyDictionary<string, string> secretEnvironment, Redactor redactor)
    {
        var psi = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        foreach (var a in command.Skip(1)) psi.ArgumentList.Add(a);
        foreach (var name in Withheld) psi.Environment.Remove(name);
        foreach (var (name, value) in secretEnvironment) psi.Environment[name] = value;
        try
        {
            var process = Process.Start(psi) ?? throw new InvalidOperationException("no process");
            process.StandardInput.Close();
            if (process.StandardOutput.BaseStream is System.IO.Pipes.PipeStream pipe) PipeCapacity.Widen(pipe.SafePipeHandle.DangerousGetHandle());
            return new SourceProcess(process, Path.GetFileName(command[0]), redactor);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new SourceFailedException($"cannot start {command[0]}: {e.Message}", null, "");
        }
    }

    /// <summary>The end of what the program wrote to stderr, with secrets masked.</summary>
    public string StderrTail => _redactor.Redact(_stderr.Text).Trim();

    /// <summary>Waits for the program to end; a non-zero status or a signal is a failed source.</summary>
    public async Task EnsureSucceededAsync(bool timedOut, int timeoutSeconds)
    {
        await _process.WaitForExitAsync();
        await _stderr.Drained;
        var status = _process.ExitCode;
        if (timedOut) throw new SourceFailedException($"{Program} timed out after {timeoutSeconds} s and was killed", status, StderrTail);
        if (status == 0) return;
        // .NET reports a death by signal as 128 + the signal's number.
        var how = status > 128 ? $"was killed by signal {status - 128}" : $"exited with status {status}";
        var lastLine = StderrTail.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
        throw new SourceFailedException($"{Program} {how}" + (lastLine != null ? $": {lastLine}" : ""), status, StderrTail);
    }

    public void Kill()
    {
        try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { /* already gone */ }
    }

    public void Dispose()
    {
        if (!_process.HasExited) Kill();
        _process.Dispose();
    }
}

/// <summary>A source that produced no snapshot: its program failed, timed out, or could not start.</summary>
public sealed class SourceFailedException(string message, int? exitStatus, string stderrTail)
    : Backups.Core.Repositories.ClassifiedException(Backups.Core.Repositories.ErrorKind.SourceFailed, message)
{
    public int? ExitStatus { get; } = exitStatus;
    public string StderrTail { get; } = stderrTail;
}
