using System.Diagnostics;
using Backups.Tests.Aws;
using Backups.Tests.Build;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Functions;

/// <summary>The x86_64 bootstrap, built as shipped by functions/build.sh (Native AOT) once per test run.</summary>
public sealed class BootstrapBuildFixture : IAsyncLifetime
{
    private readonly TempDir _out = new();

    public string Bootstrap => _out.Combine("linux-x64", "bootstrap");

    public async Task InitializeAsync() =>
        (await Processes.RunAsync("bash", [Path.Combine(ReleaseBuildFixture.RepositoryRoot, "functions", "build.sh"), _out.Path, "linux-x64"],
            workingDirectory: ReleaseBuildFixture.RepositoryRoot, timeout: TimeSpan.FromMinutes(20))).EnsureSuccess("functions/build.sh");

    public Task DisposeAsync()
    {
        _out.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// Functions end to end as Lambda runs them: the AOT bootstrap process, the Runtime API on 127.0.0.1, the
/// repository password from an SSM SecureString (a recording stand-in for SSM), email into aws-ses-v2-local.
/// </summary>
[Collection("release-build")]
public sealed class BootstrapTests(BootstrapBuildFixture build, SesLocalFixture ses)
    : IClassFixture<BootstrapBuildFixture>, IClassFixture<SesLocalFixture>, IAsyncLifetime
{
    private readonly LocalRuntimeApi _api = new();
    private readonly RecordingAwsEndpoint _ssm = new();
    private readonly List<(Process Process, Task<string> Stderr)> _processes = [];
    private SnapshotHistory _history = null!;

    public async Task InitializeAsync()
    {
        var now = DateTimeOffset.UtcNow;
        _history = await SnapshotHistory.CreateAsync(("app-db", now.AddHours(-3), 5000), ("cache", now.AddHours(-40), 6000));
        _ssm.Script("AmazonSSM.GetParameter", new ScriptedResponse(200,
            $$$"""{"Parameter":{"Name":"/backups/restic-password","Type":"SecureString","Value":"{{{Repositories.Password}}}","Version":1}}"""));
    }

    /// <summary>Starts the bootstrap as Lambda would, with only the variables Lambda and the function's configuration set.</summary>
    private void Start(string handler, params (string Name, string Value)[] configuration)
    {
        var psi = new ProcessStartInfo(build.Bootstrap) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        psi.Environment.Clear();
        foreach (var (name, value) in _history.Variables(
        [
            ("AWS_LAMBDA_RUNTIME_API", _api.HostAndPort), ("_HANDLER", handler), ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"), ("AWS_SECRET_ACCESS_KEY", "fresh/secret"), ("AWS_ENDPOINT_URL_SSM", _ssm.Url.ToString()),
            ("RESTIC_PASSWORD", ""), ("RESTIC_PASSWORD_SSM_PARAMETER", "/backups/restic-password"), ("HOME", _history.Repository),
            .. configuration,
        ])) psi.Environment[name] = value;
        var process = Process.Start(psi)!;
        _processes.Add((process, process.StandardError.ReadToEndAsync()));
    }

    [Fact]
    public async Task Freshness_runs_in_the_aot_bootstrap_with_the_password_from_ssm()
    {
        Start("freshness");

        var stale = await _api.AnswerAsync(_api.Invoke("""{"expectedSources": ["app-db", "cache"]}""", TimeSpan.FromMinutes(1)));
        var fresh = await _api.AnswerAsync(_api.Invoke("""{"maxAgeHours": 48}""", TimeSpan.FromMinutes(1)));
        var invalid = await _api.AnswerAsync(_api.Invoke("""{"maxAgeHours": "a day"}""", TimeSpan.FromMinutes(1)));

        Assert.Equal("Backups.StaleBackups", stale.ErrorType);
        Assert.StartsWith("1 of 2 sources have no snapshot in the last 25 h: cache (latest ", stale.Json["errorMessage"]!.GetValue<string>());
        Assert.True(fresh.Kind == "response", fresh.Body);
        Assert.True(fresh.Json["allFresh"]!.GetValue<bool>(), fresh.Body);
        Assert.Equal(["app-db", "cache"], fresh.Json["sources"]!.AsArray().Select(s => s!["name"]!.GetValue<string>()).Order());
        Assert.Equal("Backups.InvalidInput", invalid.ErrorType);
        Assert.StartsWith("invalid input at $.maxAgeHours: ", invalid.Json["errorMessage"]!.GetValue<string>());
        var parameter = Assert.Single(_ssm.Requests, r => r.Target == "AmazonSSM.GetParameter");
        Assert.True(parameter.Json["WithDecryption"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Notify_emails_a_failure_from_the_aot_bootstrap()
    {
        var host = $"box-{Guid.NewGuid():N}";
        Start("notify", ("AWS_ENDPOINT_URL_SESV2", ses.Endpoint.ToString()), ("NOTIFY_SENDER", "backups@example.com"),
            ("NOTIFY_RECIPIENTS", "ops@example.com"), ("BACKUP_HOST", host));

        var answer = await _api.AnswerAsync(_api.Invoke($$"""
            {"outcome": "failure", "step": "Retention", "error": "Backups.Locked",
             "cause": "{\"errorMessage\": \"locked by prune; RESTIC_PASSWORD={{Repositories.Password}}\"}"}
            """, TimeSpan.FromMinutes(1)));

        Assert.True(answer.Kind == "response", answer.Body);
        Assert.Equal($"Backup failed: Retention on {host}", answer.Json["subject"]!.GetValue<string>());
        var email = Assert.Single(await ses.StoredEmailsAsync(), e => e!["subject"]!.GetValue<string>() == $"Backup failed: Retention on {host}")!;
        var body = email["body"]!["text"]!.GetValue<string>();
        Assert.Contains("Error: Backups.Locked", body);
        Assert.Contains("locked by prune; RESTIC_PASSWORD=[redacted]", body);
        Assert.Matches(@"  app-db: \d{4}-\d\d-\d\d \d\d:\d\d UTC \(3 h ago\), snapshot [0-9a-f]{8}", body);
        Assert.DoesNotContain(Repositories.Password, email.ToJsonString());
    }

    public async Task DisposeAsync()
    {
        foreach (var (process, stderr) in _processes)
        {
            process.Kill();
            await process.WaitForExitAsync();
            Assert.DoesNotContain(Repositories.Password, await stderr);
            process.Dispose();
        }
        await _api.DisposeAsync();
        await _ssm.DisposeAsync();
        _history.Dispose();
    }
}
