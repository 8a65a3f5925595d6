using BackupAgent.Run;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Run;

/// <summary>A bad config gets one error naming the field by its JSON path, before anything runs.</summary>
public sealed class RunConfigTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    private const string Valid = """
        {
          "repository": "s3:s3.eu-west-1.amazonaws.com/backups/box1",
          "password": { "ssm": "/backups/restic-password" },
          "concurrency": 2,
          "sources": [
            { "name": "app-db", "kind": "postgres", "database": "app", "user": "backup", "password": { "env": "PGPASS" } },
            { "name": "cache", "kind": "redis", "port": 6379 },
            { "name": "files", "kind": "paths", "paths": ["/srv/app/data"], "exclude": ["*.tmp"] },
            { "name": "mysql", "kind": "command", "command": ["mysqldump", "shop"], "filename": "shop.sql" }
          ]
        }
        """;

    private const string Mysql = """{ "name": "mysql", "kind": "command", "command": ["mysqldump", "shop"], "filename": "shop.sql" }""";
    private const string Cluster = """{ "name": "pg", "kind": "postgres-cluster", "base_backup_every": "1d", "rpo_minutes": 15 }""";

    private RunConfig Load(string json)
    {
        var path = _dir.Combine(Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, json);
        return RunConfig.Load(path);
    }

    [Fact]
    public void A_full_config_loads_with_defaults()
    {
        var config = Load(Valid);
        Assert.Equal(4, config.Sources.Count);
        Assert.Equal("app-db.dump", config.Sources[0].SnapshotFilename);
        Assert.Equal("cache.rdb", config.Sources[1].SnapshotFilename);
        Assert.Equal("shop.sql", config.Sources[3].SnapshotFilename);
        Assert.Equal(SourceKind.Paths, config.Sources[2].Kind);
    }

    public static TheoryData<string, string, string> BadConfigs => new()
    {
        { "no repository", Valid.Replace("\"repository\": \"s3:s3.eu-west-1.amazonaws.com/backups/box1\",", ""), "$.repository" },
        { "two password sources", Valid.Replace("{ \"ssm\": \"/backups/restic-password\" }", "{ \"ssm\": \"/x\", \"env\": \"Y\" }"), "$.password" },
        { "unknown kind", Valid.Replace("\"kind\": \"redis\"", "\"kind\": \"mysql\""), "$.sources[1].kind" },
        { "port not a number", Valid.Replace("\"port\": 6379", "\"port\": \"six\""), "$.sources[1].port" },
        { "misspelt field", Valid.Replace("\"database\": \"app\"", "\"databse\": \"app\""), "$.sources[0]" },
        { "postgres without database", Valid.Replace("\"database\": \"app\", ", ""), "$.sources[0].database" },
        { "duplicate name", Valid.Replace("\"name\": \"cache\"", "\"name\": \"app-db\""), "$.sources[1].name" },
        { "field of another kind", Valid.Replace("\"paths\": [\"/srv/app/data\"]", "\"paths\": [\"/srv/app/data\"], \"database\": \"x\""), "$.sources[2].database" },
        { "empty command", Valid.Replace("[\"mysqldump\", \"shop\"]", "[]"), "$.sources[3].command" },
        { "bad name", Valid.Replace("\"name\": \"files\"", "\"name\": \"my files\""), "$.sources[2].name" },
        { "bad base backup cadence", Valid.Replace(Mysql, Cluster.Replace("\"1d\"", "\"7x\"")), "$.sources[3].base_backup_every" },
        { "zero base backup cadence", Valid.Replace(Mysql, Cluster.Replace("\"1d\"", "\"0d\"")), "$.sources[3].base_backup_every" },
        { "zero rpo", Valid.Replace(Mysql, Cluster.Replace("15", "0")), "$.sources[3].rpo_minutes" },
        { "cadence on a dump", Valid.Replace("\"database\": \"app\",", "\"database\": \"app\", \"base_backup_every\": \"1d\","), "$.sources[0].base_backup_every" },
        { "not JSON", "{ \"repository\": ", "$" },
    };

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public void A_bad_config_names_its_field(string what, string json, string path)
    {
        var e = Assert.Throws<ConfigException>(() => Load(json));
        Assert.True(e.Path.StartsWith(path, StringComparison.Ordinal), $"{what}: reported {e.Path} ({e.Message}), expected {path}");
        Assert.Contains(".json:", e.Message);
        Assert.Contains("config error at ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public async Task The_agent_stops_on_a_bad_config_before_touching_anything()
    {
        var repo = _dir.Combine("repo");
        var config = _dir.Combine("bad.json");
        await File.WriteAllTextAsync(config, $$"""
            { "repository": "{{repo}}", "password": { "value": "pw" },
              "sources": [ { "name": "db", "kind": "postgres" } ] }
            """);
        var r = await Processes.RunAsync(Agent.Program, ["run", "--config", config], new Dictionary<string, string>());
        Assert.Equal(2, r.ExitCode);
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("$.sources[0].database", line);
        Assert.False(Directory.Exists(repo));
    }
}
