using System.Text.Json.Nodes;
using BackupAgent.Cli;
using Backups.Core.Pruning;
using Backups.Core.Repositories;

namespace BackupAgent.Commands;

public sealed class PruneCommand : Command
{
    public override string Name => "prune";
    public override string Usage => "prune [flags]: remove data no snapshot uses";
    public override IReadOnlyList<Flag> Flags { get; } = [MaxUnusedFlag, Flag.Switch("dry-run", "only say what would be removed", "n")];

    /// <summary>Also forget --prune's.</summary>
    public static readonly Flag MaxUnusedFlag =
        Flag.Valued("max-unused", "LIMIT", "unused space to tolerate: 5% (default), a size (100M) or unlimited");

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        if (args.Positional.Count > 0) throw new UsageException("prune takes no arguments");
        var options = Options(args, args.Has("dry-run"));
        await using var repo = await global.OpenRepositoryAsync(ct);
        PruneStats? planned = null;
        var started = System.Diagnostics.Stopwatch.StartNew();
        PruneStats stats;
        await using (await output.ProgressAsync(() => Progress(planned, started.Elapsed)))
            stats = await Pruner.PruneAsync(repo, options, output.Json ? null : s => ReportPlan(planned = s, output), ct);
        if (output.Json) output.JsonLine(ToJson(stats));
        else ReportDone(stats, output);
        return ExitCodes.Ok;
    }

    /// <summary>The live line: planning, then how much of the repacking and deleting is done.</summary>
    private static string Progress(PruneStats? s, TimeSpan elapsed)
    {
        var clock = $"[{ProgressLine.Clock(elapsed)}] ";
        if (s == null) return clock + "planning";
        var work = s.BlobsToRepack + s.PacksToDelete + s.UnreferencedPacks;
        var done = s.BlobsRepacked + s.PacksDeleted;
        return clock + (work > 0 ? $"{100.0 * Math.Min(done, work) / work:0.00}%  " : "")
                     + $"repacked {s.BlobsRepacked} of {s.BlobsToRepack} blobs ({Size.Format(s.BytesRepacked)}), deleted {s.PacksDeleted} packs";
    }

    /// <summary>prune's options from --max-unused (also forget --prune's).</summary>
    public static PruneOptions Options(Arguments args, bool dryRun)
    {
        try
        {
            return new PruneOptions { MaxUnused = args.Value("max-unused") is { } m ? MaxUnused.Parse(m) : MaxUnused.Default, DryRun = dryRun };
        }
        catch (RepositoryException e) when (e.Kind == ErrorKind.InvalidArgument)
        {
            throw new UsageException($"--max-unused: {e.Message}");
        }
    }

    /// <summary>What a prune found and did, as prune prints it.</summary>
    public static void Report(PruneStats stats, Output output)
    {
        ReportPlan(stats, output);
        ReportDone(stats, output);
    }

    private static void ReportPlan(PruneStats s, Output output)
    {
        output.Info($"{s.Snapshots} snapshots");
        output.Info($"used:         {s.UsedBlobs,10} blobs / {Size.Format(s.UsedBytes)}");
        if (s.DuplicateBlobs > 0) output.Info($"duplicates:   {s.DuplicateBlobs,10} blobs / {Size.Format(s.DuplicateBytes)}");
        output.Info($"unused:       {s.UnusedBlobs,10} blobs / {Size.Format(s.UnusedBytes)}");
        if (s.UnreferencedPacks > 0) output.Info($"unreferenced: {s.UnreferencedPacks,10} packs / {Size.Format(s.UnreferencedBytes)}");
        output.Info($"total:        {s.TotalBlobs,10} blobs / {Size.Format(s.TotalBytes)}");
        output.Info("");
        output.Info($"to repack:    {s.BlobsToRepack,10} blobs / {Size.Format(s.BytesToRepack)}");
        output.Info($"this removes: {s.BlobsRemovedByRepack,10} blobs / {Size.Format(s.BytesRemovedByRepack)}");
        output.Info($"to delete:    {s.BlobsToDelete,10} blobs / {Size.Format(s.BytesToDelete + s.UnreferencedBytes)}");
        output.Info($"remaining:    {s.TotalBlobs - s.BlobsToDelete - s.BlobsRemovedByRepack,10} blobs / {Size.Format(s.TotalBytes - s.BytesToPrune)}");
        output.Info($"unused size after prune: {Size.Format(s.UnusedBytesAfter)}");
        output.Info("");
        output.Info($"packs: {s.PacksUsed} used, {s.PacksPartlyUsed} partly used, {s.PacksUnused} unused" +
                    (s.PacksMissing > 0 ? $", {s.PacksMissing} missing (no snapshot needs them; their index entries are dropped)" : ""));
        output.Info($"to keep {s.PacksToKeep} packs, repack {s.PacksToRepack}, delete {s.PacksToDelete}" +
                    (s.UnreferencedPacks > 0 ? $" and {s.UnreferencedPacks} unreferenced" : ""));
    }

    private static void ReportDone(PruneStats s, Output output)
    {
        if (s.DryRun)
        {
            output.Info("dry run: nothing was changed");
            return;
        }
        output.Info($"repacked {s.BlobsRepacked} blobs ({Size.Format(s.BytesRepacked)}) into {s.PacksWritten} new packs");
        output.Info($"deleted {s.PacksDeleted} packs ({Size.Format(s.BytesDeleted)}); freed {Size.Format(s.BytesFreed)}");
        output.Info($"index files: {s.IndexFilesWritten} written, {s.IndexFilesRemoved} removed");
        if (s.RetainedPacks.Count > 0 || s.RetainedIndexFiles.Count > 0)
            output.Info($"kept under retention (a later prune removes them): {s.RetainedPacks.Count} packs, {s.RetainedIndexFiles.Count} index files");
        foreach (var pack in s.RetainedPacks) output.Info($"  retained data/{pack[..2]}/{pack}");
        foreach (var index in s.RetainedIndexFiles) output.Info($"  retained index/{index}");
        output.Info("done");
    }

    private static JsonObject ToJson(PruneStats s) => new()
    {
        ["message_type"] = "summary",
        ["dry_run"] = s.DryRun,
        ["snapshots"] = s.Snapshots,
        ["used_blobs"] = s.UsedBlobs,
        ["used_size"] = s.UsedBytes,
        ["duplicate_blobs"] = s.DuplicateBlobs,
        ["duplicate_size"] = s.DuplicateBytes,
        ["unused_blobs"] = s.UnusedBlobs,
        ["unused_size"] = s.UnusedBytes,
        ["unreferenced_packs"] = s.UnreferencedPacks,
        ["unreferenced_size"] = s.UnreferencedBytes,
        ["packs_used"] = s.PacksUsed,
        ["packs_partly_used"] = s.PacksPartlyUsed,
        ["packs_unused"] = s.PacksUnused,
        ["packs_missing"] = s.PacksMissing,
        ["packs_to_keep"] = s.PacksToKeep,
        ["packs_to_repack"] = s.PacksToRepack,
        ["packs_to_delete"] = s.PacksToDelete,
        ["blobs_to_repack"] = s.BlobsToRepack,
        ["size_to_repack"] = s.BytesToRepack,
        ["blobs_removed_by_repack"] = s.BlobsRemovedByRepack,
        ["size_removed_by_repack"] = s.BytesRemovedByRepack,
        ["blobs_to_delete"] = s.BlobsToDelete,
        ["size_to_delete"] = s.BytesToDelete,
        ["unused_size_after"] = s.UnusedBytesAfter,
        ["packs_deleted"] = s.PacksDeleted,
        ["packs_written"] = s.PacksWritten,
        ["blobs_repacked"] = s.BlobsRepacked,
        ["size_repacked"] = s.BytesRepacked,
        ["size_deleted"] = s.BytesDeleted,
        ["size_written"] = s.BytesWritten,
        ["size_freed"] = s.BytesFreed,
        ["index_files_written"] = s.IndexFilesWritten,
        ["index_files_removed"] = s.IndexFilesRemoved,
        ["packs_retained"] = s.RetainedPacks.Count,
        ["retained_packs"] = new JsonArray([.. s.RetainedPacks.Select(p => JsonValue.Create(p))]),
        ["retained_index_files"] = new JsonArray([.. s.RetainedIndexFiles.Select(p => JsonValue.Create(p))]),
    };
}
