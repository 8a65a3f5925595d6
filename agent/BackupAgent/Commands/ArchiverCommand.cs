using BackupAgent.Cli;
using BackupAgent.Pitr;
using BackupAgent.Run;

namespace BackupAgent.Commands;

/// <summary>The resident WAL archiver (backup-agent-wal.service): opens the config's repository once and serves
/// wal-push and wal-fetch of one postgres-cluster source until stopped.</summary>
public sealed class ArchiverCommand(IReadOnlyDictionary<string, string> environment) : Command
{
    public override string Name => "archiver";
    public override string Usage =>
        "archiver --config FILE [flags]: the resident WAL archiver (as root) serving wal-push and wal-fetch of a postgres-cluster source";
    public override IReadOnlyList<Flag> Flags { get; } =
    [
        Flag.Valued("config", "FILE", "the run's config (repository, password, the postgres-cluster source)", "c"),
        Flag.Valued("source", "NAME", "the postgres-cluster source (default: the only one)"),
        WalPushCommand.SocketFlag,
        Flag.Valued("socket-group", "GROUP", "the group that may use the socket: the database's account (default postgres)"),
        Flag.Valued("pgdata", "DIR", "the cluster's data directory, to store ahead what PostgreSQL has ready in DIR/pg_wal"),
    ];

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        var config = RunConfig.Load(args.Value("config") ?? throw new UsageException("archiver needs --config FILE (the run's config)"));
        var source = config.ClusterSource(args.Value("source"));
        using var secrets = new Secrets(environment);
        var log = RunLog.For(output, secrets.Redactor);
        var (repo, _) = await RunStart.OpenAsync(config, secrets, [], createRepository: false, ct);
        await using var _ = repo;
        var archiver = new WalArchiver(repo, source.Name!, config.Host, args.Value("pgdata"), message => log.Info(message));
        try
        {
            await archiver.RunAsync(args.Value("socket") ?? WalProtocol.DefaultSocket, args.Value("socket-group") ?? "postgres", ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopped by the service manager: nothing was acknowledged that is not stored.
        }
        return ExitCodes.Ok;
    }
}
