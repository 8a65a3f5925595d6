using System.Text.Json;

namespace Backups.Tests.Support;

/// <summary>Stock restic, the oracle: every repository we write must satisfy it.</summary>
public sealed class Restic(string repository, string password, string? caCert = null, IDictionary<string, string>? env = null)
{
    public string Repository { get; } = repository;

    private Dictionary<string, string> Environment()
    {
        var e = new Dictionary<string, string>
        {
            ["RESTIC_REPOSITORY"] = Repository,
            ["RESTIC_PASSWORD"] = password,
            ["RESTIC_CACHE_DIR"] = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "restic-test-cache"),
        };
        if (env != null) foreach (var (k, v) in env) e[k] = v;
        return e;
    }

    private IEnumerable<string> Common(IEnumerable<string> args) =>
        caCert == null ? ["--no-cache", .. args] : ["--no-cache", "--cacert", caCert, .. args];

    public Task<ProcessResult> RunAsync(IEnumerable<string> args, Stream? stdin = null, Stream? stdout = null, string? workingDirectory = null) =>
        Processes.RunAsync("restic", Common(args), Environment(), stdin, stdout, workingDirectory);

    public async Task<ProcessResult> RunOkAsync(params string[] args) =>
        (await RunAsync(args)).EnsureSuccess("restic " + string.Join(' ', args));

    public async Task<JsonElement> JsonAsync(params string[] args)
    {
        var r = await RunOkAsync([.. args, "--json"]);
        return JsonDocument.Parse(r.Stdout).RootElement.Clone();
    }

    /// <summary>Runs `restic check` (optionally reading all data) and fails with restic's own words.</summary>
    public async Task CheckAsync(bool readData = true)
    {
        var r = await RunAsync(readData ? ["check", "--read-data"] : ["check"]);
        if (r.ExitCode != 0)
            throw new Xunit.Sdk.XunitException($"restic check failed ({r.ExitCode}):\n{r.StdoutText}\n{r.Stderr}");
    }
}
