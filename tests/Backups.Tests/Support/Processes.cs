using System.Diagnostics;
using System.Text;

namespace Backups.Tests.Support;

public sealed record ProcessResult(int ExitCode, byte[] Stdout, string Stderr)
{
    public string StdoutText => Encoding.UTF8.GetString(Stdout);

    public ProcessResult EnsureSuccess(string what)
    {
        if (ExitCode != 0)
            throw new InvalidOperationException($"{what} exited {ExitCode}: {Stderr}\n{StdoutText}");
        return this;
    }
}

/// <summary>Runs a program with arguments as a list (never through a shell) and collects its output.</summary>
public static class Processes
{
    public static async Task<ProcessResult> RunAsync(
        string program, IEnumerable<string> args, IDictionary<string, string>? env = null,
        Stream? stdin = null, Stream? stdout = null, string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env != null) foreach (var (k, v) in env) psi.Environment[k] = v;

        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {program}");
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(5));
        var output = stdout ?? new MemoryStream();
        var outTask = p.StandardOutput.BaseStream.CopyToAsync(output, cts.Token);
        var errTask = p.StandardError.ReadToEndAsync(cts.Token);
        var inTask = Task.Run(async () =>
        {
            try
            {
                if (stdin != null) await stdin.CopyToAsync(p.StandardInput.BaseStream, cts.Token);
            }
            catch (IOException) { /* the child stopped reading; its exit code tells the story */ }
            finally
            {
                try { p.StandardInput.Close(); } catch (IOException) { }
            }
        });
        try
        {
            await p.WaitForExitAsync(cts.Token);
            await Task.WhenAll(outTask, errTask, inTask);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in time");
        }
        var bytes = stdout == null ? ((MemoryStream)output).ToArray() : [];
        return new ProcessResult(p.ExitCode, bytes, await errTask);
    }
}
