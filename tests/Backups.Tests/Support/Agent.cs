namespace Backups.Tests.Support;

/// <summary>The real backup-agent program, run as a separate process the way people and the workflow run it.</summary>
public sealed class Agent(string repository, string password, string? caCert = null, IDictionary<string, string>? env = null)
{
    public string Repository { get; } = repository;

    /// <summary>
    /// The program as shipped, the Native-AOT x64 binary tests/run.sh builds before the tests (it starts on a
    /// tenth of the CPU a JIT-compiled start takes, thousands of times a run); in a `dotnet test` of its own, the
    /// framework-dependent build beside the test assembly (the test project references the agent).
    /// </summary>
    public static string Program { get; } = Build.ReleaseBuildFixture.Prebuilt is { } release
        ? Path.Combine(release, "linux-x64", "backup-agent") : Path.Combine(AppContext.BaseDirectory, "backup-agent");

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
