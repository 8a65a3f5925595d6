using System.Text.Json.Nodes;
using BackupAgent.Cli;
using Backups.Core.Locks;
using Backups.Core.Repositories;

namespace BackupAgent.Commands;

/// <summary>restic's key: list the key files, add one for another password, remove one, change the password.</summary>
public sealed class KeyCommand : Command
{
    public override string Name => "key";
    public override string Usage => "key list | add | remove ID | passwd [flags]: manage the repository's keys (passwords)";
    public override IReadOnlyList<Flag> Flags { get; } =
    [
        Flag.Valued("new-password-file", "FILE", "add, passwd: the new password, from FILE"),
        Flag.Valued("user", "USER", "add: the user name saved in the new key"),
        Flag.Valued("host", "HOST", "add: the host name saved in the new key"),
    ];

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        var action = Positional(args, 0, "key action (list, add, remove or passwd)");
        var expected = action == "remove" ? 2 : 1;
        if (action is not ("list" or "add" or "remove" or "passwd"))
            throw new UsageException($"unknown key action '{action}' (list, add, remove or passwd)");
        if (args.Positional.Count != expected)
            throw new UsageException(action == "remove" ? "key remove needs the id of the key to remove" : $"key {action} takes no arguments");
        // Read before anything is opened or locked: a missing file changes nothing.
        var newPassword = action is "add" or "passwd" ? NewPassword(args) : null;
        await using var repo = await global.OpenRepositoryAsync(ct);
        // As restic: listing and adding take a non-exclusive lock, removing and changing an exclusive one.
        await using var held = await RepositoryLock.AcquireAsync(repo, exclusive: action is "remove" or "passwd", ct);
        switch (action)
        {
            case "list":
                List(await RepositoryKeys.ListAsync(repo, e => output.Message($"{Backups.Core.ProgramInfo.Name}: warning: {e.Message}"), ct), output);
                break;
            case "add":
                var added = await RepositoryKeys.AddAsync(repo, newPassword!, args.Value("user"), args.Value("host"), ct);
                if (!global.Quiet) output.Line($"saved new key as {added}");
                break;
            case "remove":
                var removed = await RepositoryKeys.RemoveAsync(repo, args.Positional[1], ct);
                if (!global.Quiet) output.Line($"removed key {removed}");
                break;
            default:
                var changed = await RepositoryKeys.ChangePasswordAsync(repo, newPassword!, ct);
                if (!global.Quiet) output.Line($"saved new key as {changed}; removed the old key {repo.KeyName[..8]}");
                break;
        }
        return ExitCodes.Ok;
    }

    /// <summary>The new password, from --new-password-file (trimmed as restic trims it). There is no prompt.</summary>
    private static string NewPassword(Arguments args)
    {
        var file = args.Value("new-password-file") ?? throw new UsageException("the new password must come from --new-password-file FILE");
        try
        {
            var password = File.ReadAllText(file).Trim();
            return password.Length > 0 ? password : throw new UsageException($"the new password in {file} is empty");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"cannot read the new password file {file}: {e.Message}");
        }
    }

    private static void List(List<KeyListing> keys, Output output)
    {
        static string Created(KeyListing k) => k.Key.Created.LocalDateTime.ToString("yyyy-MM-dd HH:mm:ss");
        if (output.Json)
        {
            output.JsonLine(new JsonArray([.. keys.Select(k => (JsonNode)new JsonObject
            {
                ["current"] = k.Current, ["id"] = k.Id.Short, ["userName"] = k.Key.Username ?? "", ["hostName"] = k.Key.Hostname ?? "",
                ["created"] = Created(k),
            })]));
            return;
        }
        int user = Math.Max(4, keys.Max(k => k.Key.Username?.Length ?? 0)), host = Math.Max(4, keys.Max(k => k.Key.Hostname?.Length ?? 0));
        var header = $" {"ID",-9} {"User".PadRight(user)}  {"Host".PadRight(host)}  Created";
        output.Line(header);
        output.Line(new string('-', header.Length + 12));
        foreach (var k in keys)
            output.Line($"{(k.Current ? '*' : ' ')}{k.Id.Short,-9} {(k.Key.Username ?? "").PadRight(user)}  {(k.Key.Hostname ?? "").PadRight(host)}  {Created(k)}");
        output.Line(new string('-', header.Length + 12));
    }
}
