using System.Text.RegularExpressions;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Systemd;

/// <summary>
/// The maintenance unit's commands, expanded as systemd expands them ($VAR split into words, ${VAR} one word),
/// run against a real repository: forget prunes by the default policy and check reads its share; restic agrees.
/// </summary>
public sealed partial class MaintenanceUnitTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [GeneratedRegex("\"([A-Z_]+)=([^\"]*)\"")]
    private static partial Regex Assignment();

    [Fact]
    public async Task The_maintenance_commands_forget_prune_and_check()
    {
        var unit = await File.ReadAllLinesAsync(Path.Combine(SystemdUnitTests.UnitsFolder, "backup-agent-maintenance.service"));
        var env = unit.Where(l => l.StartsWith("Environment=")).SelectMany(l => Assignment().Matches(l))
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        var commands = unit.Where(l => l.StartsWith("ExecStart=")).Select(l => l["ExecStart=".Length..].Split(' ')
            .SelectMany(word => word.StartsWith("${") ? [env[word[2..^1]]] : word.StartsWith('$') ? env[word[1..]].Split(' ') : [word])
            .ToList()).ToList();
        Assert.Equal(2, commands.Count);
        Assert.All(commands, c => Assert.Equal("/usr/local/bin/backup-agent", c[0]));

        var repo = new LocalStore(_dir).New();
        await repo.Agent.RunOkAsync("init");
        for (var seed = 1; seed <= 3; seed++)
        {
            using var input = new TestData(TestData.Kind.Random, 200 << 10, seed);
            (await repo.Agent.RunAsync(["backup", "--stdin", "--stdin-filename", "db.dump"], input)).EnsureSuccess("backup");
        }
        foreach (var command in commands) await repo.Agent.RunOkAsync([.. command.Skip(1)]);

        // Three snapshots of today: --keep-daily keeps the newest; prune left only what it uses.
        Assert.Equal(1, (await repo.Restic.JsonAsync("snapshots")).GetArrayLength());
        await repo.Restic.CheckAsync();
        Assert.True(Repositories.DataBytes(repo.Repository) < 2 * (200 << 10), "prune left the forgotten snapshots' data");
    }
}
