using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Cli;

/// <summary>
/// A mistake in the run config is one line naming the file, the line and column, the field's JSON path and what
/// was expected, exit 2, before anything runs; never a .NET type name. init --config makes the repository a
/// config names, and a missing repository says so.
/// </summary>
public sealed class ConfigErrorTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Repository => _dir.Combine("repo");

    private string Valid(string source = """{ "name": "etc", "kind": "command", "command": ["echo", "hello"] }""") => $$"""
        {
          "repository": "{{Repository}}",
          "password": { "value": "config secret" },
          "concurrency": 2,
          "sources": [
            {{source}}
          ]
        }
        """;

    /// <summary>A config, what its one line must say, and where (line:column of the value at fault, or only the
    /// file); source lines sit on line 6, indented by 4.</summary>
    public static TheoryData<string, string, string, string> Cases => new()
    {
        { "syntax error", """{ "repository": "/r" "password": {} }""", ":1:22: config error at $: not valid JSON", "',', '}', or ']'" },
        { "unknown kind", """{ "name": "db", "kind": "mysql" }""", ":6:29: config error at $.sources[0].kind", "expected one of postgres, redis, command, paths, postgres-cluster, not \"mysql\"" },
        { "misspelled field", """{ "name": "db", "kind": "postgres", "databse": "app" }""", ":6:52: config error at $.sources[0].databse", "unknown field 'databse'; did you mean 'database'?" },
        { "wrong type", """{ "name": "c", "kind": "redis", "port": "six" }""", ":6:45: config error at $.sources[0].port", "expected a whole number, not \"six\"" },
        { "missing repository", "REPLACE:repository", ":1:1: config error at $.repository", "required: where the backups go" },
        { "bad secret reference", """{ "name": "db", "kind": "postgres", "database": "app", "password": { "sm": "/x" } }""", ":6:80: config error at $.sources[0].password.sm", "unknown field 'sm'; did you mean 'ssm'?" },
        { "two secret sources", """{ "name": "db", "kind": "postgres", "database": "app", "password": { "env": "A", "file": "/b" } }""", ":6:72: config error at $.sources[0].password", "give exactly one of env, file, ssm, value" },
        { "unset secret variable", """{ "name": "db", "kind": "postgres", "database": "app", "password": { "env": "NOT_SET_ANYWHERE" } }""", ":6:72: config error at $.sources[0].password", "NOT_SET_ANYWHERE" },
        { "sources not a list", "REPLACE:sources", ":5:14: config error at $.sources", "expected a list of sources" },
        { "unknown drill target", """{ "name": "db", "kind": "postgres", "database": "app", "drill": { "target": "docker" } }""", ":6:81: config error at $.sources[0].drill.target", "expected one of temporary-database, temporary-cluster, not \"docker\"" },
        { "field of another kind", """{ "name": "c", "kind": "redis", "paths": ["/x"] }""", ":6:46: config error at $.sources[0].paths", "does not apply to a redis source" },
        { "empty file", "", ": config error at $", "the file is empty" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_config_mistake_is_one_line_with_its_place_and_the_fix(string what, string source, string where, string says)
    {
        var json = source switch
        {
            "" => "",
            "REPLACE:repository" => Valid().Replace($"\"repository\": \"{Repository}\",", ""),
            "REPLACE:sources" => Valid().Replace("\"sources\": [", "\"sources\": {\"x\": [").Replace("  ]\n}", "  ]}\n}"),
            _ when source.StartsWith('{') && source.Contains("\"repository\"") => source,
            _ => Valid(source),
        };
        var file = _dir.Combine("config.json");
        await File.WriteAllTextAsync(file, json);
        foreach (var command in new[] { "run", "drill" })
        {
            var r = await Processes.RunAsync(Agent.Program, [command, "--config", file], new Dictionary<string, string>());
            Assert.True(r.ExitCode == 2, $"{what}: {command} exited {r.ExitCode}: {r.Stderr}");
            var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.True(line.StartsWith($"backup-agent: {file}{where}", StringComparison.Ordinal), $"{what}: {line}");
            Assert.Contains(says, line);
            Assert.DoesNotContain("System.", line);
            Assert.DoesNotContain("`1", line);
            Assert.DoesNotContain("BackupAgent.", line);
            Assert.Empty(r.Stdout);
            Assert.False(Directory.Exists(Repository), $"{what}: {command} touched the repository");
        }
    }

    [Fact]
    public async Task Init_with_the_config_creates_its_repository_which_run_then_uses()
    {
        var file = _dir.Combine("config.json");
        await File.WriteAllTextAsync(file, Valid());
        var missing = await Processes.RunAsync(Agent.Program, ["run", "--config", file], new Dictionary<string, string>());
        Assert.Equal(10, missing.ExitCode);
        Assert.Contains($"there is no repository at {Repository}; create it with: backup-agent init --config {file}", missing.Stderr);

        (await Processes.RunAsync(Agent.Program, ["init", "--config", file], new Dictionary<string, string>())).EnsureSuccess("init --config");
        (await Processes.RunAsync(Agent.Program, ["run", "--config", file], new Dictionary<string, string>())).EnsureSuccess("run --config");
        // The config's password opens it for restic too.
        var snapshots = await new Restic(Repository, "config secret").JsonAsync("snapshots");
        Assert.Equal(1, snapshots.GetArrayLength());
    }
}
