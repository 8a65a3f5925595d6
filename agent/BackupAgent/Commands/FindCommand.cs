using System.Text.Json.Nodes;
using BackupAgent.Cli;
using Backups.Core.Inspecting;
using Backups.Core.Json;
using Backups.Core.Snapshots;
using Backups.Core.Trees;

namespace BackupAgent.Commands;

/// <summary>restic's find: the files and directories whose paths match a pattern, snapshot by snapshot.</summary>
public sealed class FindCommand : Command
{
    public override string Name => "find";
    public override string Usage =>
        "find [flags] PATTERN...: find files by restic's patterns ('*.sql', '/srv/**/x', 'dir'), or where blobs, trees or packs are used";
    public override IReadOnlyList<Flag> Flags { get; } =
    [
        .. SnapshotFilters,
        Flag.Valued("snapshot", "ID", "search only this snapshot (repeatable)", "s"),
        Flag.Switch("ignore-case", "match patterns regardless of case", "i"),
        Flag.Switch("long", "list mode, owner, size and time too", "l"),
        Flag.Switch("blob", "the patterns are blob ids (whole or 8 characters): list the files that hold them"),
        Flag.Switch("tree", "the patterns are tree ids (whole or 8 characters): list the directories that are them"),
        Flag.Switch("pack", "the patterns are pack ids (whole or 8 characters): list the files that hold their blobs"),
    ];

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        if (args.Positional.Count == 0) throw new UsageException("find needs at least one pattern");
        var idKinds = new[] { "blob", "tree", "pack" }.Where(args.Has).ToList();
        if (idKinds.Count > 1) throw new UsageException("cannot have several ID types (--blob, --tree, --pack)");
        if (idKinds.Count == 1) return await FindObjectsAsync(args, idKinds[0], global, output, ct);
        FileFinder finder;
        await using var repo = await global.OpenRepositoryAsync(ct);
        try
        {
            finder = new FileFinder(repo, args.Positional, args.Has("ignore-case"));
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
        await using var held = await global.ReadLockAsync(repo, ct);
        var snapshots = await SelectSnapshotsAsync(repo, args, args.Values("snapshot"), output, ct);
        await repo.LoadIndexAsync(ct);
        var results = new JsonArray();
        var first = true;
        foreach (var snapshot in snapshots)
        {
            var matches = new JsonArray();
            var hits = 0;
            await finder.FindAsync(snapshot, (path, node) =>
            {
                if (output.Json)
                {
                    matches.Add((JsonNode)MatchJson(path, node));
                    return;
                }
                // As restic: a heading before a snapshot's first match, a blank line between snapshots.
                if (hits++ == 0 && !global.Quiet)
                    output.Line($"{(first ? "" : "\n")}Found matching entries in snapshot {snapshot.Id.Short} from {snapshot.Time.LocalDateTime:yyyy-MM-dd HH:mm:ss}");
                first = false;
                output.Line(args.Has("long") ? Long(path, node) : path);
            }, ct);
            if (output.Json && matches.Count > 0)
                results.Add((JsonNode)new JsonObject { ["matches"] = matches, ["hits"] = matches.Count, ["snapshot"] = snapshot.Id.ToString() });
        }
        if (output.Json) output.JsonLine(results);
        return ExitCodes.Ok;
    }

    /// <summary>restic's find --blob, --tree or --pack: every place the objects are used, snapshot by snapshot.</summary>
    private static async Task<int> FindObjectsAsync(Arguments args, string kind, GlobalOptions global, Output output, CancellationToken ct)
    {
        await using var repo = await global.OpenRepositoryAsync(ct);
        await using var held = await global.ReadLockAsync(repo, ct);
        await repo.LoadIndexAsync(ct);
        var finder = kind switch
        {
            "blob" => ObjectFinder.ForBlobs(repo, args.Positional),
            "tree" => ObjectFinder.ForTrees(repo, args.Positional),
            _ => await ObjectFinder.ForPacksAsync(repo, args.Positional, ct),
        };
        var found = new JsonArray();
        foreach (var snapshot in await SelectSnapshotsAsync(repo, args, args.Values("snapshot"), output, ct))
            await finder.FindAsync(snapshot, o =>
            {
                if (output.Json) found.Add((JsonNode)ObjectJson(o));
                else PrintObject(o, output);
            }, ct);
        if (output.Json) output.JsonLine(found);
        return ExitCodes.Ok;
    }

    /// <summary>restic's JSON for a found object (parent_tree only for a blob).</summary>
    private static JsonObject ObjectJson(FoundObject o)
    {
        var json = new JsonObject { ["object_type"] = o.Kind, ["id"] = o.Id.ToString(), ["path"] = o.Path };
        if (o.ParentTree is { } tree) json["parent_tree"] = tree.ToString();
        json["snapshot"] = o.Snapshot.Id.ToString();
        json["time"] = GoTime.Format(o.Snapshot.Time);
        return json;
    }

    private static void PrintObject(FoundObject o, Output output)
    {
        output.Line($"Found {o.Kind} {o.Id}");
        if (o.ParentTree is { } tree)
        {
            output.Line($" ... in file {o.Path}");
            output.Line($"     (tree {tree})");
        }
        else output.Line($" ... path {o.Path}");
        output.Line($" ... in snapshot {o.Snapshot.Id.Short} ({o.Snapshot.Time.LocalDateTime:yyyy-MM-dd HH:mm:ss})");
    }

    /// <summary>restic's JSON for a match: the node's fields with its path and permissions, without name, inode,
    /// device, content and subtree.</summary>
    private static JsonObject MatchJson(string path, Node node)
    {
        var json = new JsonObject { ["path"] = path, ["permissions"] = GoFileMode.Format(node.Mode), ["type"] = node.Type };
        if (node.Mode != 0) json["mode"] = node.Mode;
        json["mtime"] = node.ModTime.ToString();
        json["atime"] = node.AccessTime.ToString();
        json["ctime"] = node.ChangeTime.ToString();
        json["uid"] = node.Uid;
        json["gid"] = node.Gid;
        if (!string.IsNullOrEmpty(node.User)) json["user"] = node.User;
        if (!string.IsNullOrEmpty(node.Group)) json["group"] = node.Group;
        if (node.DeviceId != 0) json["device_id"] = node.DeviceId;
        if (node.Size != 0) json["size"] = node.Size;
        if (node.Links != 0) json["links"] = node.Links;
        if (!string.IsNullOrEmpty(node.LinkTarget)) json["linktarget"] = node.LinkTarget;
        if (!string.IsNullOrEmpty(node.Error)) json["error"] = node.Error;
        return json;
    }

    /// <summary>restic's long listing: mode, uid, gid, size, mtime, path (and a symlink's target).</summary>
    private static string Long(string path, Node node) =>
        $"{GoFileMode.Of(node)} {node.Uid,5} {node.Gid,5} {node.Size,6} {node.ModTime.ToDateTimeOffset().LocalDateTime:yyyy-MM-dd HH:mm:ss} {path}" +
        (node.Type == Node.Symlink ? $" -> {node.LinkTarget}" : "");
}
