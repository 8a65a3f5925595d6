using System.Text.Json.Nodes;
using BackupAgent.Cli;
using BackupAgent.Run;
using Backups.Core.Settings;

namespace BackupAgent.Commands;

public sealed class InitCommand(IReadOnlyDictionary<string, string> environment) : Command
{
    public override string Name => "init";
    public override string Usage => "init [flags]: create a new repository";
    public override IReadOnlyList<Flag> Flags { get; } =
    [
        Flag.Valued("repository-version", "1|2", "the repository format (default 2: compressed)"),
        Flag.Valued("config", "FILE", "create the repository the run's config names, with its password", "c"),
    ];

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        var versionText = args.Value("repository-version") ?? "2";
        var version = versionText switch { "latest" or "stable" or "2" => 2, "1" => 1, _ => -1 };
        if (version < 0) throw new UsageException($"--repository-version must be 1 or 2, not '{versionText}'");
        var settings = args.Value("config") is { } path ? await FromConfigAsync(path, args, ct) : global.Settings;
        await using var repo = await settings.InitAsync(version, ct);
        if (output.Json)
            output.JsonLine(new JsonObject { ["message_type"] = "initialized", ["id"] = repo.Config.Id, ["repository"] = repo.Backend.Location });
        else
            output.Info($"created repository {repo.Config.Id[..10]} at {repo.Backend.Location}");
        return ExitCodes.Ok;
    }

    /// <summary>The repository and password of a run config (so that `run --config FILE`'s repository can be made
    /// with the same file).</summary>
    private async Task<RepositorySettings> FromConfigAsync(string path, Arguments args, CancellationToken ct)
    {
        if (args.Value("repo") != null || args.Value("password-file") != null)
            throw new UsageException("--config names the repository and its password: give it without -r or --password-file");
        var config = RunConfig.Load(path);
        using var secrets = new Secrets(environment);
        var password = await config.GuardAsync(() => secrets.ResolveAsync(config.Password!, "$.password", ct));
        var settings = config.RepositorySettings(PasswordSource.Given(password, "$.password"));
        return settings with { CaCertFile = args.Value("cacert") ?? settings.CaCertFile, Options = settings.Options.With(args.Values("option")) };
    }
}
