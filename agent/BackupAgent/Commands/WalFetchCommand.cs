using BackupAgent.Cli;
using BackupAgent.Pitr;
using Backups.Core.Repositories;
using Backups.Core.Wal;

namespace BackupAgent.Commands;

/// <summary>PostgreSQL's restore_command: a file of the archive, through the archiver's socket, written whole
/// or not at all. A missing file is an ordinary answer during recovery (the end of the archive, exit 14); every other
/// failure exits above 125, the codes PostgreSQL takes as "stop recovering": if an archiver that cannot be reached
/// were read as the end of the archive, recovery to `latest` would promote the server hours short of it.</summary>
public sealed class WalFetchCommand : Command
{
    public override string Name => "wal-fetch";
    public override string Usage => "wal-fetch [--socket PATH] NAME DEST: PostgreSQL's restore_command ('backup-agent wal-fetch %f %p'), through the WAL archiver";
    public override IReadOnlyList<Flag> Flags { get; } = [WalPushCommand.SocketFlag];

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        bool found;
        try
        {
            found = await FetchAsync(args, ct);
        }
        catch (Exception e) when (Failures.KindOf(e) is not ErrorKind.Interrupted)
        {
            throw new ClassifiedException(ErrorKind.ArchiveUnreadable, $"{Failures.Cause(e).Message}; recovery must stop here", e);
        }
        if (!found) throw new RepositoryException(ErrorKind.NotFound, $"{args.Positional[0]} is not in the archive");
        return ExitCodes.Ok;
    }

    private static async Task<bool> FetchAsync(Arguments args, CancellationToken ct)
    {
        var name = WalFileName.Parse(Positional(args, 0, "the file's name (%f)"));
        var destination = Positional(args, 1, "where to write it (%p)");
        var partial = destination + ".partial-fetch";
        try
        {
            await using (var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
                if (!await WalProtocol.FetchAsync(args.Value("socket") ?? WalProtocol.DefaultSocket, name, file, ct)) return false;
            File.Move(partial, destination, overwrite: true);
            return true;
        }
        finally
        {
            File.Delete(partial);
        }
    }
}
