using System.Diagnostics;
using BackupAgent.Run;

namespace BackupAgent.Drills;

/// <summary>
/// A helper program of a drill or of its recording (psql, pg_restore, redis-cli, initdb, pg_ctl, redis-server):
/// arguments as a list, secrets only in its environment, stderr kept as a tail for the one-line reason of a
/// failure. Disposing kills whatever still runs, so nothing outlives a cancelled drill.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly StderrTail _stderr;

    public string Program { get; }
    public int Id => _process.Id;
    public Stream Input => _process.StandardInput.BaseStream;
    public StreamWriter InputWriter => _process.StandardInput;
    public StreamReader Output => _process.StandardOutput;

    private ChildProcess(Process process, string program)
    {
        _process = process;
        Program = program;
        _stderr = new StderrTail(process.StandardError);
    }

    public static ChildProcess Start(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var name in SourceProcess.Withheld) psi.Environment.Remove(name);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) psi.Environment[name] = value;
        try
        {
            var process = Process.Start(psi) ?? throw new InvalidOperationException("no process");
            return new ChildProcess(process, Path.GetFileName(program));
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new DrillStepException($"cannot start {program}: {e.Message}");
        }
    }

    /// <summary>Runs a program to its end; its input (if any) is written by <paramref name="input"/>.</summary>
    public static async Task<ChildResult> RunAsync(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment,
        Func<Stream, Task>? input, CancellationToken ct, string? workingDirectory = null)
    {
        using var child = Start(program, args, environment, workingDirectory);
        using var kill = ct.Register(child.Kill);
        var output = child.Output.ReadToEndAsync(CancellationToken.None);
        try
        {
            if (input != null) await input(child.Input);
        }
        catch (IOException)
        {
            // The program stopped reading (it failed): its exit status and stderr tell why.
        }
        finally
        {
            try { child.Input.Close(); } catch (IOException) { /* already gone */ }
        }
        var status = await child.WaitAsync();
        ct.ThrowIfCancellationRequested();
        return new ChildResult(child.Program, status, await output, child.StderrTail);
    }

    public string StderrTail => _stderr.Text;

    public async Task<int> WaitAsync()
    {
        await _process.WaitForExitAsync();
        await _stderr.Drained;
        return _process.ExitCode;
    }

    public bool HasExited => _process.HasExited;

    public void Kill()
    {
        try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { /* already gone */ }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Kill();
            _process.WaitForExit();
        }
        _process.Dispose();
    }
}

/// <summary>How a helper program ended.</summary>
public sealed record ChildResult(string Program, int ExitCode, string Stdout, string Stderr)
{
    /// <summary>The reason psql, pg_restore and friends give: their last error line (psql follows it with the
    /// query's text and a caret), else the last line.</summary>
    public string Reason
    {
        get
        {
            var lines = Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return lines.LastOrDefault(l => l.Contains("ERROR:", StringComparison.Ordinal) || l.Contains("error:", StringComparison.Ordinal))
                   ?? lines.LastOrDefault() ?? "";
        }
    }

    public ChildResult EnsureSucceeded(string what) =>
        ExitCode == 0 ? this : throw new DrillStepException($"{what}: {Program} exited with status {ExitCode}" + (Reason.Length > 0 ? $": {Reason}" : ""));
}

/// <summary>A step of a drill or of recording its facts failed; the message is one line for the result.</summary>
public sealed class DrillStepException(string message) : Exception(message);
