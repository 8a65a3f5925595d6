using System.Text.Json.Nodes;
using BackupAgent.Cli;
using Backups.Core.Locks;

namespace BackupAgent.Commands;

public sealed class UnlockCommand : Command
{
    public override string Name => "unlock";
    public override string Usage => "unlock [--remove-all]: remove stale locks (older than 30 min, or of a dead process on this host)";
    public override IReadOnlyList<Flag> Flags { get; } = [Flag.Switch("remove-all", "remove every lock, also those of running processes")];

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        if (args.Positional.Count > 0) throw new UsageException("unlock takes no arguments");
        await using var repo = await global.OpenRepositoryAsync(ct);
        var removed = await StaleLocks.RemoveAsync(repo, all: args.Has("remove-all"), ct);
        if (output.Json) output.JsonLine(new JsonObject { ["message_type"] = "summary", ["removed_locks"] = removed });
        else output.Info($"successfully removed {removed} lock{(removed == 1 ? "" : "s")}");
        return ExitCodes.Ok;
    }
}
