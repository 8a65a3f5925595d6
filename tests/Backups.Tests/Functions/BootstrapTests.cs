using System.Diagnostics;
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
/// The Freshness function end to end as Lambda runs it: the AOT bootstrap process, the Runtime API on
/// 127.0.0.1, the repository password from an SSM SecureString (a recording stand-in for SSM).
/// </summary>
[Collection("release-build")]
public sealed class BootstrapTests(BootstrapBuildFixture build) : IClassFixture<BootstrapBuildFixture>
{
    [Fact]
    public async Task FreshnessRunsInTheAotBootstrapWithThePasswordFromSsm()
    {
        var now = DateTimeOffset.UtcNow;
        using var history = await SnapshotHistory.CreateAsync(("app-db", now.AddHours(-3), 5000), ("cache", now.AddHours(-40), 6000));
        await using var api = new LocalRuntimeApi();
        await using var ssm = new RecordingAwsEndpoint();
        ssm.Script("AmazonSSM.GetParameter", new ScriptedResponse(200,
            $$$"""{"Parameter":{"Name":"/backups/restic-password","Type":"SecureString","Value":"{{{Repositories.Password}}}","Version":1}}"""));
        var psi = new ProcessStartInfo(build.Bootstrap) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        psi.Environment.Clear();
        foreach (var (name, value) in new Dictionary<string, string>
        {
            ["AWS_LAMBDA_RUNTIME_API"] = api.HostAndPort, ["_HANDLER"] = "freshness", ["AWS_REGION"] = "eu-west-1",
            ["AWS_ACCESS_KEY_ID"] = "AKIAEXAMPLE", ["AWS_SECRET_ACCESS_KEY"] = "fresh/secret", ["AWS_ENDPOINT_URL_SSM"] = ssm.Url.ToString(),
            ["RESTIC_REPOSITORY"] = history.Repository, ["RESTIC_PASSWORD_SSM_PARAMETER"] = "/backups/restic-password",
            ["HOME"] = history.Repository,
        }) psi.Environment[name] = value;
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            var stale = await api.AnswerAsync(api.Invoke("""{"expectedSources": ["app-db", "cache"]}""", TimeSpan.FromMinutes(1)));
            var fresh = await api.AnswerAsync(api.Invoke("""{"maxAgeHours": 48}""", TimeSpan.FromMinutes(1)));
            var invalid = await api.AnswerAsync(api.Invoke("""{"maxAgeHours": "a day"}""", TimeSpan.FromMinutes(1)));

            Assert.Equal("Backups.StaleBackups", stale.ErrorType);
            Assert.StartsWith("1 of 2 sources have no snapshot in the last 25 h: cache (latest ", stale.Json["errorMessage"]!.GetValue<string>());
            Assert.True(fresh.Kind == "response", fresh.Body);
            Assert.True(fresh.Json["allFresh"]!.GetValue<bool>(), fresh.Body);
            Assert.Equal(["app-db", "cache"], fresh.Json["sources"]!.AsArray().Select(s => s!["name"]!.GetValue<string>()).Order());
            Assert.Equal("Backups.InvalidInput", invalid.ErrorType);
            Assert.StartsWith("invalid input at $.maxAgeHours: ", invalid.Json["errorMessage"]!.GetValue<string>());
            var parameter = Assert.Single(ssm.Requests, r => r.Target == "AmazonSSM.GetParameter");
            Assert.True(parameter.Json["WithDecryption"]!.GetValue<bool>());
        }
        finally
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
        Assert.DoesNotContain(Repositories.Password, await stderr);
    }
}
