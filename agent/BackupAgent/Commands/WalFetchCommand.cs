using BackupAgent.Cli;
using BackupAgent.Pitr;
using Backups.Core.Repositories;
using Backups.Core.Wal;

namespace BackupAgent.Commands;

/// <summary>PostgreSQL's restore_command: a file of the archive, through the archiver's socket, written whole
/// or not at all (a missing file is an ordinary answer during recovery: the end of the archive).</summary>
public sealed class WalFetchCommand : Command
{
    public override string Name => "wal-fetch";
    public override string Usage => "wal-fetch [--socket PATH] NAME DEST: PostgreSQL's restore_command ('backup-agent wal-fetch %f %p'), through the WAL archiver";
    public override IReadOnlyList<Flag> Flags { get; } = [WalPushCommand.SocketFlag];

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        var name = WalFileName.Parse(Positional(args, 0, "the file's name (%f)"));
        var destination = Positional(args, 1, "where to write it (%p)");
        var partial = destination + ".partial-fetch";
        try
        {
            bool found;
            await using (var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
                found = await WalProtocol.FetchAsync(args.Value("socket") ?? WalProtocol.DefaultSocket, name, file, ct);
            if (!found) throw new RepositoryException(ErrorKind.NotFound, $"{name} is not in the archive");
            File.Move(partial, destination, overwrite: true);
        }
        finally
        {
            File.Delete(partial);
        }
        return ExitCodes.Ok;
    }
}
