using BackupAgent.Cli;
using BackupAgent.Pitr;
using Backups.Core.Wal;

namespace BackupAgent.Commands;

/// <summary>PostgreSQL's archive_command. It holds no key: the file goes to the resident archiver (its hash, and its
/// bytes when the archiver has not read them ahead), and success is reported only once the archiver has stored
/// them (packs, index and snapshot).</summary>
public sealed class WalPushCommand : Command
{
    public override string Name => "wal-push";
    public override string Usage => "wal-push [--socket PATH] FILE: PostgreSQL's archive_command ('backup-agent wal-push %p'), through the WAL archiver";
    public override IReadOnlyList<Flag> Flags { get; } = [SocketFlag];

    /// <summary>The archiver's socket, for wal-push, wal-fetch, archiver and pitr alike.</summary>
    public static readonly Flag SocketFlag = Flag.Valued("socket", "PATH", $"the WAL archiver's Unix socket (default {WalProtocol.DefaultSocket})");

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        var path = Positional(args, 0, "the file to archive (%p)");
        var name = WalFileName.Parse(Path.GetFileName(path));
        await WalProtocol.PushAsync(args.Value("socket") ?? WalProtocol.DefaultSocket, name, path, ct);
        return ExitCodes.Ok;
    }
}
