using System.Text.Json.Nodes;
using BackupAgent.Cli;

namespace BackupAgent.Commands;

public sealed class InitCommand : Command
{
    public override string Name => "init";
    public override string Usage => "init [--repository-version 1|2]: create a new repository";
    public override IReadOnlyDictionary<string, string?> ValueFlags { get; } = new Dictionary<string, string?> { ["repository-version"] = null };

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        var versionText = args.Value("repository-version") ?? "2";
        var version = versionText switch { "latest" or "stable" or "2" => 2, "1" => 1, _ => -1 };
        if (version < 0) throw new UsageException($"--repository-version must be 1 or 2, not '{versionText}'");
        await using var repo = await global.Settings.InitAsync(version, ct);
        if (output.Json)
            output.JsonLine(new JsonObject { ["message_type"] = "initialized", ["id"] = repo.Config.Id, ["repository"] = repo.Backend.Location });
        else
            output.Line($"created repository {repo.Config.Id[..10]} at {repo.Backend.Location}");
        return ExitCodes.Ok;
    }
}
