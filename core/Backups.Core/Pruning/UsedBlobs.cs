using Backups.Core.Buffers;
using Backups.Core.Indexes;
using Backups.Core.Repositories;
using Backups.Core.Trees;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Pruning;

/// <summary>
/// Every tree and data blob that some snapshot reaches. Trees are read level by level, a bounded number at a
/// time, each tree once however many snapshots share it.
/// </summary>
internal static class UsedBlobs
{
    private const int Loads = 8;

    /// <summary>The used blobs; throws, changing nothing, when one of them is in no existing pack.</summary>
    public static async Task<BlobSet> FindAsync(Repo repo, RepositoryContents contents, BlobKeys keys, IEnumerable<Id> roots, CancellationToken ct)
    {
        var used = new BlobSet(keys.Count);
        var missing = new HashSet<BlobKey>();
        using var large = new SemaphoreSlim(1);
        var level = new List<(Id Tree, int Entry)>();
        foreach (var root in roots)
            if (Tree(keys, root) is var (number, entry) && used.Add(number)) level.Add((root, entry));
        while (level.Count > 0)
        {
            var next = new List<(Id, int)>();
            await Parallel.ForEachAsync(level, new ParallelOptions { MaxDegreeOfParallelism = Loads, CancellationToken = ct }, async (item, token) =>
            {
                var blob = contents.Blobs[item.Entry];
                var location = blob.Location(contents.Packs[blob.Pack]);
                var data = new List<Id>();
                var subtrees = new List<Id>();
                await LargeBuffers.OneAtATimeAsync(large, location.PlaintextLength, () =>
                    repo.ReadBlobAsync(item.Tree, location, tree =>
                    {
                        TreeReferences.Read(tree, item.Tree, data.Add, subtrees.Add);
                        return tree.Length;
                    }, token), token);
                lock (used)
                {
                    foreach (var id in data)
                    {
                        var key = new BlobKey(id, BlobType.Data);
                        if (keys.TryFind(key, out var number, out _)) used.Add(number);
                        else missing.Add(key);
                    }
                    foreach (var id in subtrees)
                        if (Tree(keys, id) is var (number, entry) && used.Add(number)) next.Add((id, entry));
                }
            });
            level = next;
        }
        if (missing.Count > 0)
        {
            var first = missing.First();
            throw new RepositoryException(ErrorKind.Damaged,
                $"{missing.Count} blob(s) used by snapshots are missing from the repository (e.g. {first.Type.ToString().ToLowerInvariant()} blob {first.Id}); prune stopped and changed nothing");
        }
        return used;
    }

    /// <summary>A tree's number and where to read it: any copy in a pack that exists.</summary>
    private static (int Number, int Entry) Tree(BlobKeys keys, Id tree) =>
        keys.TryFind(new BlobKey(tree, BlobType.Tree), out var number, out var entry) ? (number, entry)
            : throw new RepositoryException(ErrorKind.Damaged,
                $"tree {tree} is used by a snapshot but is missing from the repository; prune stopped and changed nothing");
}
