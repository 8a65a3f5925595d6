using Backups.Tests.Support;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Xunit;

namespace Backups.Tests.Aws;

/// <summary>aws-ses-v2-local (from tests/stack), an SES stand-in that keeps what it is sent, on 127.0.0.1.</summary>
public sealed partial class SesLocalFixture : IAsyncLifetime
{
    private readonly StringBuilder _output = new();
    private Process? _process;

    /// <summary>http://127.0.0.1:PORT/</summary>
    public Uri Endpoint { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var script = TestStack.Script("aws-ses-v2-local", "dist", "cli.js");
        var psi = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // Port 0: it takes a free port and prints it, so there is no race for a port chosen beforehand.
        foreach (var a in new[] { script, "--host", "127.0.0.1", "--port", "0" }) psi.ArgumentList.Add(a);

        var listening = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        _process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data == null) return;
            lock (_output) _output.AppendLine(e.Data);
            if (Listening().Match(e.Data) is { Success: true } m) listening.TrySetResult(int.Parse(m.Groups[1].Value));
        };
        _process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (_output) _output.AppendLine(e.Data); };
        _process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException($"aws-ses-v2-local exited early:\n{Output()}"));
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        try
        {
            // It prints "localhost" for 127.0.0.1; the address it was told to bind is the one to use.
            Endpoint = new Uri($"http://127.0.0.1:{await listening.Task.WaitAsync(TimeSpan.FromSeconds(30))}/");
        }
        catch (TimeoutException)
        {
            throw new InvalidOperationException($"aws-ses-v2-local did not start within 30 s:\n{Output()}");
        }
    }

    /// <summary>The messages it has accepted so far, in its own JSON form (GET /store).</summary>
    public async Task<JsonArray> StoredEmailsAsync()
    {
        using var http = new HttpClient();
        var store = JsonNode.Parse(await http.GetStringAsync(new Uri(Endpoint, "store")))!;
        return store["emails"]!.AsArray();
    }

    private string Output()
    {
        lock (_output) return _output.ToString();
    }

    [GeneratedRegex(@"server running at http://[^:]+:(\d+)")]
    private static partial Regex Listening();


    public async Task DisposeAsync()
    {
        if (_process == null) return;
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
