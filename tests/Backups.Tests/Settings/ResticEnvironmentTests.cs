using Backups.Functions.Repositories;
using Backups.Functions.Runtime;
using Backups.Tests.Errors;
using Backups.Tests.Functions;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Settings;

/// <summary>
/// The repository's settings as restic reads them, honoured alike by the agent's commands and by the functions:
/// the password from a command, the CA certificate from RESTIC_CACERT (against s3rver over HTTPS, whose
/// self-signed certificate nothing else trusts).
/// </summary>
[Collection("s3")]
public sealed class ResticEnvironmentTests(S3rverFixture s3)
{
    private const string Secret = "hunter2-do-not-print";

    /// <summary>A command that prints the password, with no shell between (the quotes are restic's splitting).</summary>
    private static string PrintsPassword => $"printf '%s\\n' '{Repositories.Password}'";

    /// <summary>restic's password variable emptied (as good as unset, as in restic), so that only the command gives it.</summary>
    private static Dictionary<string, string> Without(string variable, params (string Name, string Value)[] more)
    {
        var env = new Dictionary<string, string> { [variable] = "" };
        foreach (var (name, value) in more) env[name] = value;
        return env;
    }

    [Fact]
    public async Task The_password_command_opens_the_repository_from_the_environment_or_the_flag()
    {
        using var dir = new TempDir();
        var repo = new LocalStore(dir).New();
        await repo.Restic.RunOkAsync("init");
        using (var data = new TestData(TestData.Kind.Random, 1000, seed: 6))
            (await repo.Restic.RunAsync(["backup", "--stdin", "--stdin-filename", "a.txt"], data)).EnsureSuccess("restic backup");

        var fromEnvironment = await repo.Agent.RunAsync(["--json", "snapshots"], extraEnv: Without("RESTIC_PASSWORD", ("RESTIC_PASSWORD_COMMAND", PrintsPassword)));
        var fromFlag = await repo.Agent.RunAsync(["--password-command", PrintsPassword, "--json", "snapshots"], extraEnv: Without("RESTIC_PASSWORD"));

        foreach (var r in new[] { fromEnvironment, fromFlag })
        {
            r.EnsureSuccess("backup-agent snapshots");
            Assert.Contains("a.txt", r.StdoutText);
        }
    }

    [Fact]
    public async Task A_failing_password_command_is_one_line_with_its_own_exit_code_and_no_output()
    {
        using var dir = new TempDir();
        var repo = new LocalStore(dir).New();
        await repo.Restic.RunOkAsync("init");
        var before = RepositoryFiles.Snapshot(repo.Repository);

        var r = await repo.Agent.RunAsync(["snapshots"],
            extraEnv: Without("RESTIC_PASSWORD", ("RESTIC_PASSWORD_COMMAND", $"sh -c 'echo {Secret}; exit 3'")));

        Assert.Equal("backup-agent: the password command (sh) exited with status 3",
            Failure.AssertOneLine(r, Failure.PasswordCommandFailed, "password command", Secret));
        Assert.Equal(before, RepositoryFiles.Snapshot(repo.Repository));
    }

    [Fact]
    public async Task A_password_file_and_command_together_are_refused()
    {
        using var dir = new TempDir();
        var repo = new LocalStore(dir).New();
        var file = dir.Combine("password");
        await File.WriteAllTextAsync(file, Repositories.Password + "\n");

        var r = await repo.Agent.RunAsync(["init", "--password-file", file], extraEnv: Without("RESTIC_PASSWORD", ("RESTIC_PASSWORD_COMMAND", PrintsPassword)));

        Failure.AssertOneLine(r, Failure.Usage, "exclude each other");
        Assert.False(Directory.Exists(repo.Repository));
    }

    [Fact]
    public async Task The_command_line_trusts_the_store_named_by_restic_cacert()
    {
        var repository = s3.NewRepository();
        var env = new Dictionary<string, string>(s3.Env) { ["RESTIC_CACERT"] = s3.CaCertPath, ["BACKUP_RETRY_BUDGET_SECONDS"] = "5" };
        var agent = new Agent(repository, Repositories.Password, env: env);

        await agent.RunOkAsync("init");
        using (var data = new TestData(TestData.Kind.Random, 100_000, seed: 7))
            (await agent.RunAsync(["backup", "--stdin", "--stdin-filename", "db.dump"], data)).EnsureSuccess("backup-agent backup");

        var restic = new Restic(repository, Repositories.Password, s3.CaCertPath, new Dictionary<string, string>(s3.Env));
        Assert.Contains("db.dump", (await restic.RunOkAsync("ls", "latest")).StdoutText);
        // Without it the same store is not trusted: the variable is what made the difference.
        var untrusted = await agent.RunAsync(["snapshots"], extraEnv: new Dictionary<string, string> { ["RESTIC_CACERT"] = "" });
        Assert.Equal(Failure.Unavailable, untrusted.ExitCode);
    }

    [Fact]
    public async Task A_function_opens_the_repository_with_the_same_settings()
    {
        var repository = s3.NewRepository();
        var restic = new Restic(repository, Repositories.Password, s3.CaCertPath, new Dictionary<string, string>(s3.Env));
        await restic.RunOkAsync("init");
        using (var data = new TestData(TestData.Kind.Random, 10_000, seed: 8))
            (await restic.RunAsync(["backup", "--stdin", "--stdin-filename", "app-db.dump", "--tag", "app-db"], data)).EnsureSuccess("restic backup");

        var variables = new Dictionary<string, string>(s3.Env)
        {
            ["RESTIC_REPOSITORY"] = repository, ["RESTIC_PASSWORD_COMMAND"] = PrintsPassword, ["RESTIC_CACERT"] = s3.CaCertPath,
        };
        using var environment = new FunctionEnvironment(variables);
        await using var repo = await new FunctionRepository(environment).OpenAsync(SnapshotHistory.Invocation());
        var history = new SourceHistory(await repo.LoadSnapshotsAsync());

        Assert.Equal(["app-db"], history.Sources);
        // The password the command gave is masked in whatever leaves the function.
        Assert.DoesNotContain(Repositories.Password, environment.Clean($"failed with {Repositories.Password}"));
    }
}
