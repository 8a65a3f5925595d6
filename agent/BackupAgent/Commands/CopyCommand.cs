using System.Text.Json.Nodes;
using BackupAgent.Cli;
using Backups.Core.Copying;
using Backups.Core.Settings;

namespace BackupAgent.Commands;

/// <summary>restic 0.14's copy: the snapshots of --from-repo that the repository (-r, the destination) lacks.</summary>
public sealed class CopyCommand(IReadOnlyDictionary<string, string> environment) : Command
{
    public override string Name => "copy";
    public override string Usage =>
        "copy --from-repo REPO [--from-password-file F|--from-password-command C] [ID...] [--host H] [--tag T] [--path P]: copy the snapshots the repository lacks from another one";
    public override IReadOnlyList<Flag> Flags { get; } =
    [
        .. SnapshotFilters,
        Flag.Valued("from-repo", "REPOSITORY", "the repository to copy from (default: $RESTIC_FROM_REPOSITORY)"),
        Flag.Valued("from-password-file", "FILE", "the source repository's password file (default: $RESTIC_FROM_PASSWORD_FILE)"),
        Flag.Valued("from-password-command", "COMMAND", "a command printing the source repository's password (default: $RESTIC_FROM_PASSWORD_COMMAND)"),
    ];

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        // The source's location and password as restic reads them (its flags, else RESTIC_FROM_*); the CA
        // certificate and -o options are shared, as restic's are.
        var from = ResticEnvironment.Read(environment, new RepositoryFlags(Repository: args.Value("from-repo"),
            PasswordFile: args.Value("from-password-file"), PasswordCommand: args.Value("from-password-command"), CaCert: args.Value("cacert"),
            Options: args.Values("option")),
            names: RepositoryNames.From);
        var options = new CopyOptions { Filter = Filter(args), Snapshots = args.Positional, LockSource = !args.Has("no-lock") };
        await using var source = await from.OpenAsync(ct);
        await using var destination = await global.OpenRepositoryAsync(ct);
        var stats = await Copier.CopyAsync(source, destination, options, output.Json || global.Quiet ? null : c => Print(c, output), ct);
        if (output.Json) output.JsonLine(ToJson(stats));
        return ExitCodes.Ok;
    }

    private static void Print(CopiedSnapshot c, Output output)
    {
        var s = c.Source;
        output.Line($"snapshot {s.Id.Short} of [{string.Join(" ", s.Paths)}] at {s.Time:yyyy-MM-dd HH:mm:ss zzz}: " +
                    (c.AlreadyThere ? $"skipped, already copied to snapshot {c.Copy?.Short}" : $"saved as {c.Copy?.Short}"));
    }

    private static JsonObject ToJson(CopyStats stats) => new()
    {
        ["message_type"] = "summary",
        ["snapshots_copied"] = stats.Snapshots.Count(c => !c.AlreadyThere),
        ["snapshots_skipped"] = stats.Snapshots.Count(c => c.AlreadyThere),
        ["blobs_copied"] = stats.BlobsCopied,
        ["bytes_added"] = stats.BytesAdded,
        ["snapshots"] = new JsonArray([.. stats.Snapshots.Select(c => (JsonNode)new JsonObject
        {
            ["source"] = c.Source.Id.ToString(),
            ["copy"] = c.Copy?.ToString(),
            ["already_there"] = c.AlreadyThere,
        })]),
    };
}
