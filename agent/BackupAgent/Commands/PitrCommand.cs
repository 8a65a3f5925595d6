using System.Text.Json;
using BackupAgent.Cli;
using BackupAgent.Pitr;
using BackupAgent.Run;

namespace BackupAgent.Commands;

public sealed class PitrCommand(IReadOnlyDictionary<string, string> environment) : Command
{
    public override string Name => "pitr";
    public override string Usage =>
        "pitr --config FILE [--source NAME] --to 'YYYY-MM-DD HH:MM:SS[.ffffff][+TZ]'|latest|LSN --pgdata DIR [--start] [--socket PATH]: " +
        "restore the newest base backup before the target into the empty DIR and configure recovery to the target " +
        "(--start: replay it now in a temporary server and report where it stopped)";
    public override IReadOnlyDictionary<string, string?> ValueFlags { get; } = new Dictionary<string, string?>
    {
        ["config"] = "c", ["source"] = null, ["to"] = null, ["pgdata"] = null, ["socket"] = null,
    };
    public override IReadOnlyDictionary<string, string?> SwitchFlags { get; } = new Dictionary<string, string?> { ["start"] = null };

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        var config = RunConfig.Load(args.Value("config") ?? throw new UsageException("pitr needs --config FILE (the run's config)"));
        var source = config.ClusterSource(args.Value("source"));
        var target = RecoveryTarget.Parse(args.Value("to") ?? throw new UsageException("pitr needs --to TIME|latest|LSN"));
        var pgdata = Path.GetFullPath(args.Value("pgdata") ?? throw new UsageException("pitr needs --pgdata DIR (an empty directory)"));
        using var secrets = new Secrets(environment);
        var (repo, _) = await RunStart.OpenAsync(config, secrets, [], createRepository: false, ct);
        await using var _ = repo;
        var result = await new Recovery(repo, source.Name!, output.Message)
            .RunAsync(target, pgdata, args.Value("socket") ?? WalProtocol.DefaultSocket, args.Has("start"), ct);
        if (output.Json) output.Line(JsonSerializer.Serialize(result, PitrJsonContext.Default.RecoveryResult));
        else output.Line(result.ReachedLsn == null
            ? $"restored base backup {result.BaseSnapshot[..8]} into {pgdata}; start the server to recover to {target}"
            : $"recovered {pgdata} from base backup {result.BaseSnapshot[..8]} to {result.ReachedTime ?? "the base backup"} (WAL {result.ReachedLsn})");
        return ExitCodes.Ok;
    }
}
