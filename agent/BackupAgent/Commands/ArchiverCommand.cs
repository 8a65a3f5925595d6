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
        "archiver --config FILE [--source NAME] [--socket PATH] [--socket-group GROUP] [--pgdata DIR]: serve wal-push and wal-fetch " +
        "for a postgres-cluster source, storing ahead what PostgreSQL has ready in DIR/pg_wal";
    public override IReadOnlyDictionary<string, string?> ValueFlags { get; } = new Dictionary<string, string?>
    {
        ["config"] = "c", ["source"] = null, ["socket"] = null, ["socket-group"] = null, ["pgdata"] = null,
    };

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        var config = RunConfig.Load(args.Value("config") ?? throw new UsageException("archiver needs --config FILE (the run's config)"));
        var source = config.ClusterSource(args.Value("source"));
        using var secrets = new Secrets(environment);
        var log = new RunLog(Console.Error, secrets.Redactor);
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
