using System.Text.Json;
using BackupAgent.Cli;
using BackupAgent.Pitr;
using BackupAgent.Run;

namespace BackupAgent.Commands;

public sealed class PitrCommand(IReadOnlyDictionary<string, string> environment) : Command
{
    public override string Name => "pitr";
    public override string Usage =>
        "pitr --config FILE --to TARGET --pgdata DIR [flags]: restore a cluster's newest base backup before TARGET and recover to TARGET";
    public override IReadOnlyList<Flag> Flags { get; } =
    [
        Flag.Valued("config", "FILE", "the run's config (repository, password, the postgres-cluster source)", "c"),
        Flag.Valued("source", "NAME", "the postgres-cluster source (default: the only one)"),
        Flag.Valued("to", "TARGET", "'YYYY-MM-DD HH:MM:SS[.ffffff][+TZ]' (as SELECT now() prints it), latest, or a WAL position"),
        Flag.Valued("pgdata", "DIR", "the empty data directory to recover into"),
        Flag.Switch("start", "replay now in a temporary server, report the time and WAL position reached, stop it"),
        Flag.Valued("socket", "PATH", $"the archiver socket restore_command uses later (default {WalProtocol.DefaultSocket})"),
    ];

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
