using Backups.Core.Indexes;
using Backups.Core.Packs;
using Backups.Core.Repositories;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Pruning;

/// <summary>What becomes of a pack file.</summary>
internal enum PackAction : byte { Keep, Repack, Delete, Forget }

/// <summary>
/// restic's prune plan: which blobs the snapshots use, and for each pack whether it is kept, repacked (its used
/// blobs copied into new packs) or deleted. Unused packs are deleted; partly used ones are repacked, those with
/// the most unused space first, until at most --max-unused stays behind; tree packs, packs mixing blob types and
/// (in v2) packs of uncompressed trees are always repacked, as are tiny packs when there are at least ten.
/// Packs in no index are deleted (prune holds the repository alone); index entries of missing packs are
/// forgotten when no snapshot needs them. Making a plan changes nothing.
/// </summary>
public sealed class PrunePlan
{
    // restic repacks packs below 1/25 of its target pack size when there are enough of them.
    private const long SmallPack = Packer.PackSize / 25;
    private const int EnoughSmallPacks = 10;

    private struct PackInfo
    {
        public int UsedBlobs, UnusedBlobs;
        public long UsedSize, UnusedSize;
        public bool HasData, HasTrees, Uncompressed;
        public readonly bool Mixed => HasData && HasTrees;
        public readonly long Size => UsedSize + UnusedSize;
    }

    public PruneStats Stats { get; }
    internal RepositoryContents Contents { get; }
    /// <summary>By pack number; packs only in data/ are always deleted.</summary>
    internal PackAction[] Actions { get; }
    /// <summary>The blobs' numbers, which the bits of <see cref="Copy"/> stand for.</summary>
    internal BlobKeys Keys { get; }
    /// <summary>The used blobs that live only in packs being repacked: each is copied once.</summary>
    internal BlobSet Copy { get; }

    private PrunePlan(PruneStats stats, RepositoryContents contents, BlobKeys keys, PackAction[] actions, BlobSet copy)
    {
        Stats = stats;
        Contents = contents;
        Keys = keys;
        Actions = actions;
        Copy = copy;
    }

    /// <summary>Whether executing the plan changes the repository at all.</summary>
    public bool HasWork => Contents.RepeatedEntries || Stats.UnreferencedPacks > 0 || Stats.PacksMissing > 0
                           || Stats.PacksToDelete > 0 || Stats.PacksToRepack > 0;

    public static async Task<PrunePlan> CreateAsync(Repo repo, MaxUnused maxUnused, CancellationToken ct = default)
    {
        var contents = await RepositoryContents.LoadAsync(repo, ct);
        var snapshots = await repo.LoadSnapshotsAsync(ct);
        var stats = new PruneStats { Snapshots = snapshots.Count };
        var keys = new BlobKeys(contents);
        var used = await UsedBlobs.FindAsync(repo, contents, keys, snapshots.Select(s => s.Tree), ct);
        var infos = Measure(contents, keys, used, stats);
        var actions = Decide(repo, contents, infos, maxUnused, stats);

        // `used` now holds every used blob; only those without a copy in a kept pack need copying.
        if (stats.PacksToRepack > 0)
        {
            for (var pack = 0; pack < contents.IndexedPacks; pack++)
                if (actions[pack] == PackAction.Keep)
                    for (var i = 0; i < contents.BlobCount[pack]; i++) used.Remove(keys.KeyOf(contents.FirstBlob[pack] + i));
        }
        else used.Clear();
        return new PrunePlan(stats, contents, keys, actions, used);
    }

    /// <summary>Sorts every entry of an existing pack into used, duplicate or unused, and sums them per pack.</summary>
    private static PackInfo[] Measure(RepositoryContents contents, BlobKeys keys, BlobSet used, PruneStats stats)
    {
        // Copies of one blob lie side by side in keys.Sorted: the first copy of a used blob counts as used, the
        // others as duplicates; restic's rule below decides which copy stays.
        var copies = keys.Sorted;
        Dictionary<int, byte>? duplicates = null;
        for (var start = 0; start < copies.Length;)
        {
            var key = keys.KeyOf(copies[start]);
            var end = start + 1;
            while (end < copies.Length && keys.KeyOf(copies[end]) == key) end++;
            if (used.Contains(key))
            {
                stats.UsedBlobs++;
                stats.UsedBytes += contents.Blobs[copies[start]].Length;
                if (end - start > 1) (duplicates ??= [])[key] = (byte)Math.Min(255, end - start);
                for (var i = start + 1; i < end; i++)
                {
                    stats.DuplicateBlobs++;
                    stats.DuplicateBytes += contents.Blobs[copies[i]].Length;
                }
            }
            else
                for (var i = start; i < end; i++)
                {
                    stats.UnusedBlobs++;
                    stats.UnusedBytes += contents.Blobs[copies[i]].Length;
                }
            start = end;
        }

        var infos = new PackInfo[contents.IndexedPacks];
        for (var pack = 0; pack < infos.Length; pack++)
        {
            ref var info = ref infos[pack];
            info.UsedSize = PackedBlob.HeaderOverhead;
            var blobs = contents.BlobsOf(pack);
            for (var i = 0; i < blobs.Length; i++)
            {
                var b = blobs[i];
                // -1 in a pack that does not exist: no copy there counts (the pack's entries are forgotten).
                var key = keys.KeyOf(contents.FirstBlob[pack] + i);
                info.UsedSize += b.Entry.HeaderSize;
                info.HasData |= b.Type == BlobType.Data;
                info.HasTrees |= b.Type == BlobType.Tree;
                info.Uncompressed |= !b.IsCompressed;
                if (duplicates?.ContainsKey(key) == true) continue;
                if (key >= 0 && used.Contains(key)) Use(ref info, b);
                else Unuse(ref info, b);
            }
        }
        if (duplicates == null) return infos;

        // restic's rule for duplicates: keep the copy in a pack that is used anyway, else the last one seen.
        for (var i = 0; i < contents.Blobs.Length; i++)
        {
            var b = contents.Blobs[i];
            if (!contents.IsPresent(b.Pack) || !duplicates.TryGetValue(keys.KeyOf(i), out var count)) continue;
            ref var info = ref infos[b.Pack];
            if (count == 0) Unuse(ref info, b);
            else if (info.UsedBlobs > 0 || count == 1)
            {
                Use(ref info, b);
                duplicates[keys.KeyOf(i)] = 0;
            }
            else
            {
                Unuse(ref info, b);
                duplicates[keys.KeyOf(i)] = (byte)(count - 1);
            }
        }
        return infos;
    }

    private static void Use(ref PackInfo info, PackedBlob b)
    {
        info.UsedBlobs++;
        info.UsedSize += b.Length;
    }

    private static void Unuse(ref PackInfo info, PackedBlob b)
    {
        info.UnusedBlobs++;
        info.UnusedSize += b.Length;
    }

    private static PackAction[] Decide(Repo repo, RepositoryContents contents, PackInfo[] infos, MaxUnused maxUnused, PruneStats stats)
    {
        var actions = new PackAction[contents.Packs.Count];
        var candidates = new List<int>();
        var small = new List<int>();
        for (var pack = 0; pack < contents.Packs.Count; pack++)
        {
            if (pack >= contents.IndexedPacks)
            {
                actions[pack] = PackAction.Delete;
                stats.UnreferencedPacks++;
                stats.UnreferencedBytes += contents.PackSizes[pack];
                continue;
            }
            var p = infos[pack];
            if (!contents.IsPresent(pack))
            {
                // No snapshot needs it (or Measure would have stopped): its entries are simply not carried over.
                actions[pack] = PackAction.Forget;
                stats.PacksMissing++;
                continue;
            }
            if (p.Size != contents.PackSizes[pack] && p.UsedBlobs > 0)
                throw new RepositoryException(ErrorKind.Damaged,
                    $"data/{contents.Packs[pack].ToString()[..2]}/{contents.Packs[pack]} is damaged: its size is {contents.PackSizes[pack]} bytes, the index says {p.Size}; prune stopped and changed nothing");

            if (p.UsedBlobs == 0) stats.PacksUnused++;
            else if (p.UnusedBlobs == 0) stats.PacksUsed++;
            else stats.PacksPartlyUsed++;

            var mustCompress = repo.Config.Version >= 2 && p.HasTrees && p.Uncompressed;
            if (p.UsedBlobs == 0)
            {
                actions[pack] = PackAction.Delete;
                stats.PacksToDelete++;
                stats.BlobsToDelete += p.UnusedBlobs;
                stats.BytesToDelete += p.UnusedSize;
            }
            else if (p.UnusedBlobs == 0 && !p.Mixed && !mustCompress)
            {
                if (contents.PackSizes[pack] >= SmallPack) stats.PacksToKeep++;
                else small.Add(pack);
            }
            else candidates.Add(pack);
        }

        if (small.Count < EnoughSmallPacks) stats.PacksToKeep += small.Count;
        else candidates.AddRange(small);

        // Tree and mixed packs first, then small ones, then by the share of unused space.
        bool IsData(int pack) => infos[pack].HasData && !infos[pack].HasTrees;
        candidates.Sort((i, j) =>
        {
            var (pi, pj) = (infos[i], infos[j]);
            if (IsData(i) != IsData(j)) return IsData(i) ? 1 : -1;
            var (si, sj) = (pi.Size < SmallPack, pj.Size < SmallPack);
            if (si != sj) return si ? -1 : 1;
            return ((UInt128)(ulong)pj.UnusedSize * (ulong)pi.UsedSize).CompareTo((UInt128)(ulong)pi.UnusedSize * (ulong)pj.UsedSize);
        });

        var allowed = maxUnused.Allowed((ulong)stats.UsedBytes);
        foreach (var pack in candidates)
        {
            var p = infos[pack];
            var unusedAfter = stats.UnusedBytes - stats.BytesToDelete - stats.BytesRemovedByRepack;
            var mustCompress = repo.Config.Version >= 2 && p.HasTrees && p.Uncompressed;
            if (IsData(pack) && !mustCompress && (ulong)Math.Max(0, unusedAfter) < allowed && p.Size >= SmallPack)
            {
                stats.PacksToKeep++;
                continue;
            }
            actions[pack] = PackAction.Repack;
            stats.PacksToRepack++;
            stats.BlobsToRepack += p.UsedBlobs + p.UnusedBlobs;
            stats.BytesToRepack += p.Size;
            stats.BlobsRemovedByRepack += p.UnusedBlobs;
            stats.BytesRemovedByRepack += p.UnusedSize;
        }
        return actions;
    }
}
