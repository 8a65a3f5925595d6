using Backups.Core.Backends;
using Backups.Core.Buffers;
using Backups.Core.Indexes;
using Backups.Core.Locks;
using Backups.Core.Packs;
using Backups.Core.Repositories;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Pruning;

/// <summary>
/// Carries out a prune plan under an exclusive lock, in an order that a kill at any moment cannot hurt: new
/// packs, then new index files covering everything kept, then the old index files are removed, then the packs
/// nobody needs. Whatever a kill leaves (packs in no index, entries repeated across index files, index files
/// naming deleted packs that no snapshot needs) is the next prune's ordinary work.
/// </summary>
public static class Pruner
{
    private const int Removals = 8, PackReads = 2;
    // How much of a pack is read at once when repacking (a larger blob is read alone).
    private const int Window = 4 * 1024 * 1024;

    /// <summary>Removes stale locks, locks the repository exclusively, plans and (unless a dry run) prunes.</summary>
    public static async Task<PruneStats> PruneAsync(Repo repo, PruneOptions options, Action<PruneStats>? planned = null, CancellationToken ct = default)
    {
        if (!options.DryRun) await StaleLocks.RemoveAsync(repo, ct: ct);
        await using var held = await RepositoryLock.AcquireAsync(repo, exclusive: true, ct);
        return await PruneLockedAsync(repo, options, planned, ct);
    }

    /// <summary>Plans and (unless a dry run) prunes under an exclusive lock the caller holds (forget --prune's).</summary>
    public static async Task<PruneStats> PruneLockedAsync(Repo repo, PruneOptions options, Action<PruneStats>? planned = null, CancellationToken ct = default)
    {
        var plan = await PrunePlan.CreateAsync(repo, options.MaxUnused, ct);
        plan.Stats.DryRun = options.DryRun;
        planned?.Invoke(plan.Stats);
        if (!options.DryRun) await ExecuteAsync(repo, plan, ct);
        return plan.Stats;
    }

    /// <summary>Executes a plan; the caller holds the exclusive lock it was made under.</summary>
    public static async Task ExecuteAsync(Repo repo, PrunePlan plan, CancellationToken ct = default)
    {
        if (!plan.HasWork) return;
        var contents = plan.Contents;
        var stats = plan.Stats;

        // Packs in no index hold nothing anybody can refer to: they go first, as in restic.
        await RemovePacksAsync(repo, plan, pack => pack >= contents.IndexedPacks, ct);

        if (stats.PacksToRepack > 0) await RepackAsync(repo, plan, ct);

        var written = await KeptIndex.WriteAsync(repo, plan, ct);
        var before = contents.IndexFiles.ToHashSet();
        await foreach (var (name, _) in repo.Backend.ListAsync(FileKind.Index, ct))
            if (!before.Contains(name)) written.Add(name);
        stats.IndexFilesWritten = written.Count;

        var old = contents.IndexFiles.Where(n => !written.Contains(n)).ToList();
        await ForAllAsync(old, ct, async (name, token) =>
        {
            if (!await TryRemoveAsync(repo, new FileHandle(FileKind.Index, name), token))
                lock (stats) stats.RetainedIndexFiles.Add(name);
        });
        stats.IndexFilesRemoved = old.Count - stats.RetainedIndexFiles.Count;

        // An old index file the store keeps (retention) still names its packs: deleting one of them would leave
        // that index naming a pack that does not exist, which restic's check calls an error. Such packs stay, as
        // indexed as before, and a later prune (once the index file can go) deletes them.
        var named = await PacksNamedAsync(repo, stats.RetainedIndexFiles, ct);
        await RemovePacksAsync(repo, plan, pack => pack < contents.IndexedPacks && plan.Actions[pack] is PackAction.Delete or PackAction.Repack, ct, named);
        stats.RetainedPacks.Sort(StringComparer.Ordinal);
        stats.RetainedIndexFiles.Sort(StringComparer.Ordinal);
    }

    /// <summary>
    /// Removes the chosen packs that exist. A pack whose removal the store refuses (S3 Object Lock retention) is
    /// left and reported, never counted as deleted. Crash-safe as it stands: the refused pack holds no blob a
    /// snapshot needs (unused, or its used blobs already copied into new indexed packs), and the new index no
    /// longer names it, so it is an unreferenced pack like those a killed prune leaves: restic's check notes it
    /// as an additional file, backups never refer to it, and the next prune removes it first thing (or leaves and
    /// reports it again while its retention lasts).
    /// </summary>
    private static async Task RemovePacksAsync(Repo repo, PrunePlan plan, Func<int, bool> which, CancellationToken ct, IReadOnlySet<Id>? keep = null)
    {
        var contents = plan.Contents;
        var stats = plan.Stats;
        var packs = Enumerable.Range(0, contents.Packs.Count).Where(which).Where(contents.IsPresent).ToList();
        await ForAllAsync(packs, ct, async (pack, token) =>
        {
            var id = contents.Packs[pack];
            var removed = keep?.Contains(id) != true && await TryRemoveAsync(repo, new FileHandle(FileKind.Pack, id.ToString()), token);
            lock (stats)
            {
                if (!removed)
                {
                    stats.RetainedPacks.Add(id.ToString());
                    return;
                }
                stats.PacksDeleted++;
                stats.BytesDeleted += contents.PackSizes[pack];
            }
        });
    }

    /// <summary>Removes a file; false when the store keeps it (its retention has not ended).</summary>
    private static async Task<bool> TryRemoveAsync(Repo repo, FileHandle file, CancellationToken ct)
    {
        try
        {
            await repo.Backend.RemoveAsync(file, ct);
            return true;
        }
        catch (RemovalRefusedException)
        {
            return false;
        }
    }

    /// <summary>The packs that the given index files name.</summary>
    private static async Task<HashSet<Id>> PacksNamedAsync(Repo repo, IEnumerable<string> indexFiles, CancellationToken ct)
    {
        var packs = new HashSet<Id>();
        foreach (var name in indexFiles)
        {
            var file = new FileHandle(FileKind.Index, name);
            IndexEntries.Read(await repo.OpenUnpackedAsync(file, ct), id =>
            {
                packs.Add(id);
                return 0;
            }, _ => { });
        }
        return packs;
    }

    private static Task ForAllAsync<T>(IEnumerable<T> items, CancellationToken ct, Func<T, CancellationToken, Task> action) =>
        Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = Removals, CancellationToken = ct },
            async (item, token) => await action(item, token));

    /// <summary>Copies the still-used blobs of the packs to repack into new packs, each blob once, verified.</summary>
    private static async Task RepackAsync(Repo repo, PrunePlan plan, CancellationToken ct)
    {
        var contents = plan.Contents;
        var copy = plan.Copy;
        var stats = plan.Stats;
        var packs = Enumerable.Range(0, contents.IndexedPacks).Where(p => plan.Actions[p] == PackAction.Repack).ToList();
        var packsBefore = await PackSizesAsync(repo, ct);
        try
        {
            await Parallel.ForEachAsync(packs, new ParallelOptions { MaxDegreeOfParallelism = repo.Backend.Connections ?? PackReads, CancellationToken = ct }, async (pack, token) =>
            {
                List<PackedBlob> wanted;
                var first = contents.FirstBlob[pack];
                // In offset order already, as the contents are sorted.
                lock (copy)
                    wanted = [.. Enumerable.Range(first, contents.BlobCount[pack]).Where(i => copy.Remove(plan.Keys.KeyOf(i)))
                        .Select(i => contents.Blobs[i])];
                var file = new FileHandle(FileKind.Pack, contents.Packs[pack].ToString());
                await PackStream.ReadAsync(repo.Backend, file, [.. wanted.Select(b => new PackSpan(b.Offset, b.Length))], Window,
                    (i, stored) => CopyBlobAsync(repo, wanted[i], stored, contents.Packs[pack], stats, token), token);
            });
            await repo.FlushAsync(ct);
        }
        finally
        {
            // Unless flushed, the copies are dropped: the old packs stay, nothing refers to the new ones.
            await repo.DiscardBlobsAsync();
        }
        if (copy.Count > 0)
            throw new RepositoryException(ErrorKind.Damaged, $"{copy.Count} used blob(s) were not found in the packs being repacked; old packs were kept");
        foreach (var (name, size) in await PackSizesAsync(repo, ct))
            if (!packsBefore.ContainsKey(name))
            {
                stats.PacksWritten++;
                stats.BytesWritten += size;
            }
    }

    private static async ValueTask CopyBlobAsync(Repo repo, PackedBlob b, ReadOnlyMemory<byte> stored, Id pack, PruneStats stats, CancellationToken ct)
    {
        var (plaintext, reloaded) = await repo.OpenPackedBlobAsync(stored, b.Id, b.Location(pack), ct);
        // A blob damaged on the way only is sealed anew from what verified, not copied in its damaged form.
        if (reloaded) stored = ReadOnlyMemory<byte>.Empty;
        await repo.CopyBlobAsync(b.Entry, stored.Span, plaintext, ct);
        lock (stats)
        {
            stats.BlobsRepacked++;
            stats.BytesRepacked += b.Length;
        }
    }

    private static async Task<Dictionary<string, long>> PackSizesAsync(Repo repo, CancellationToken ct)
    {
        var sizes = new Dictionary<string, long>();
        await foreach (var (name, size) in repo.Backend.ListAsync(FileKind.Pack, ct)) sizes[name] = size;
        return sizes;
    }
}
