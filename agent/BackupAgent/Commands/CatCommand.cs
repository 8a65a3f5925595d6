using BackupAgent.Cli;
using Backups.Core;
using Backups.Core.Backends;
using Backups.Core.Snapshots;

namespace BackupAgent.Commands;

public sealed class CatCommand : Command
{
    public override string Name => "cat";
    public override string Usage => "cat config | snapshot ID | index ID | lock ID | key ID: print a repository file's JSON";

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        var kind = Positional(args, 0, "what to print (config, snapshot, index, lock, key)");
        await using var repo = await global.OpenRepositoryAsync(ct);
        ReadOnlyMemory<byte> json = kind switch
        {
            "config" => repo.Open(await repo.Backend.LoadAsync(FileHandle.Config, ct: ct), "config"),
            "snapshot" => SnapshotJson.ToBytes(await SnapshotFinder.FindAsync(repo, Positional(args, 1, "snapshot id"), ct: ct)),
            "index" => await repo.LoadUnpackedAsync(new FileHandle(FileKind.Index, FullId(args)), ct),
            "lock" => await repo.LoadUnpackedAsync(new FileHandle(FileKind.Lock, FullId(args)), ct),
            "key" => await repo.Backend.LoadAsync(new FileHandle(FileKind.Key, FullId(args)), ct: ct),
            _ => throw new UsageException($"cat cannot print '{kind}' (config, snapshot, index, lock or key)"),
        };
        await output.Stdout.WriteAsync(json, ct);
        output.Stdout.WriteByte((byte)'\n');
        return ExitCodes.Ok;
    }

    private static string FullId(Arguments args)
    {
        var text = Positional(args, 1, "id");
        return Id.TryParse(text, out var id) ? id.ToString() : throw new UsageException($"'{text}' is not a full 64-digit id");
    }
}
