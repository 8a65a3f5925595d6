namespace Backups.Tests.Support;

/// <summary>The real backup-agent program, run as a separate process the way people and the workflow run it.</summary>
public sealed class Agent(string repository, string password, string? caCert = null, IDictionary<string, string>? env = null)
{
    public string Repository { get; } = repository;

    /// <summary>The built program beside the test assembly (the test project references the agent).</summary>
    public static string Program { get; } = Path.Combine(AppContext.BaseDirectory, "backup-agent");

    public Dictionary<string, string> Environment()
    {
        var e = new Dictionary<string, string> { ["RESTIC_REPOSITORY"] = Repository, ["RESTIC_PASSWORD"] = password };
        if (env != null) foreach (var (k, v) in env) e[k] = v;
        return e;
    }

    public Task<ProcessResult> RunAsync(IEnumerable<string> args, Stream? stdin = null, Stream? stdout = null,
        IDictionary<string, string>? extraEnv = null, string? workingDirectory = null)
    {
        var e = Environment();
        if (extraEnv != null) foreach (var (k, v) in extraEnv) e[k] = v;
        return Processes.RunAsync(Program, caCert == null ? args : ["--cacert", caCert, .. args], e, stdin, stdout, workingDirectory);
    }

    public async Task<ProcessResult> RunOkAsync(params string[] args) =>
        (await RunAsync(args)).EnsureSuccess("backup-agent " + string.Join(' ', args));
}
