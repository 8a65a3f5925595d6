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

    public static async Task<HashSet<BlobKey>> FindAsync(Repo repo, RepositoryContents contents, IEnumerable<Id> roots, CancellationToken ct)
    {
        var trees = TreeLocations(contents);
        var used = new HashSet<BlobKey>();
        using var large = new SemaphoreSlim(1);
        var level = roots.Where(t => used.Add(new BlobKey(t, BlobType.Tree))).ToList();
        while (level.Count > 0)
        {
            var next = new List<Id>();
            await Parallel.ForEachAsync(level, new ParallelOptions { MaxDegreeOfParallelism = Loads, CancellationToken = ct }, async (tree, token) =>
            {
                if (!trees.TryGetValue(tree, out var i))
                    throw new RepositoryException(ErrorKind.Damaged,
                        $"tree {tree} is used by a snapshot but is missing from the repository; prune stopped and changed nothing");
                var location = contents.Blobs[i].Location(contents.Packs[contents.Blobs[i].Pack]);
                var isLarge = location.PlaintextLength > LargeBuffers.Size;
                if (isLarge) await large.WaitAsync(token);
                var data = new List<Id>();
                var subtrees = new List<Id>();
                try
                {
                    TreeReferences.Read(await repo.LoadBlobAsync(tree, location, token), tree, data.Add, subtrees.Add);
                }
                finally
                {
                    if (isLarge)
                    {
                        LargeBuffers.Released(location.PlaintextLength);
                        large.Release();
                    }
                }
                lock (used)
                {
                    foreach (var id in data) used.Add(new BlobKey(id, BlobType.Data));
                    foreach (var id in subtrees)
                        if (used.Add(new BlobKey(id, BlobType.Tree))) next.Add(id);
                }
            });
            level = next;
        }
        return used;
    }

    /// <summary>Where to read each tree: any copy in a pack that exists.</summary>
    private static Dictionary<Id, int> TreeLocations(RepositoryContents contents)
    {
        var trees = new Dictionary<Id, int>();
        for (var i = 0; i < contents.Blobs.Length; i++)
            if (contents.Blobs[i].Type == BlobType.Tree && contents.IsPresent(contents.Blobs[i].Pack))
                trees.TryAdd(contents.Blobs[i].Id, i);
        return trees;
    }
}
