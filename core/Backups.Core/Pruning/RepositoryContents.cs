using System.Runtime.InteropServices;
using Backups.Core.Backends;
using Backups.Core.Buffers;
using Backups.Core.Indexes;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Pruning;

/// <summary>
/// What the repository holds, as prune sees it: every index file, every index entry (one compact struct each,
/// sorted by pack and offset, entries repeated across index files folded into one) and every pack file with
/// its size. Packs are numbered so that entries need no pack id of their own.
/// </summary>
internal sealed class RepositoryContents
{
    /// <summary>The index files as listed before anything was changed.</summary>
    public required List<string> IndexFiles { get; init; }
    /// <summary>Pack ids by number: first those named in an index, then those only in data/.</summary>
    public required List<Id> Packs { get; init; }
    /// <summary>Size of each pack file in data/, or -1 when an index names a pack that is not there.</summary>
    public required long[] PackSizes { get; init; }
    /// <summary>The entries, sorted by pack and offset (one list, grown while the index files were read).</summary>
    public required List<PackedBlob> BlobList { get; init; }
    public ReadOnlySpan<PackedBlob> Blobs => CollectionsMarshal.AsSpan(BlobList);
    /// <summary>Where each indexed pack's entries start in <see cref="Blobs"/>, and how many there are.</summary>
    public required int[] FirstBlob { get; init; }
    public required int[] BlobCount { get; init; }
    /// <summary>How many packs some index names (numbers below it); the rest are in data/ only.</summary>
    public required int IndexedPacks { get; init; }
    /// <summary>Whether some entry appeared in more than one index file (an interrupted prune leaves that).</summary>
    public required bool RepeatedEntries { get; init; }

    public bool IsPresent(int pack) => PackSizes[pack] >= 0;

    public ReadOnlySpan<PackedBlob> BlobsOf(int pack) => Blobs.Slice(FirstBlob[pack], BlobCount[pack]);

    public static async Task<RepositoryContents> LoadAsync(Repo repo, CancellationToken ct)
    {
        var indexFiles = new List<string>();
        var indexSizes = new List<long>();
        await foreach (var (name, size) in repo.Backend.ListAsync(FileKind.Index, ct))
        {
            indexFiles.Add(name);
            indexSizes.Add(size);
        }

        var packs = new List<Id>();
        var numbers = new Dictionary<Id, int>();
        var blobs = new List<PackedBlob>();
        // One index file at a time: each is held whole as stored (its JSON is read as it is decompressed) until its
        // entries are read.
        for (var i = 0; i < indexFiles.Count; i++)
        {
            var file = new FileHandle(FileKind.Index, indexFiles[i]);
            IndexEntries.Read(await repo.OpenUnpackedAsync(file, ct), id =>
            {
                if (numbers.TryGetValue(id, out var number)) return number;
                numbers.Add(id, packs.Count);
                packs.Add(id);
                return packs.Count - 1;
            }, blobs.Add);
            LargeBuffers.Released(indexSizes[i]);
        }
        var indexed = packs.Count;

        var all = CollectionsMarshal.AsSpan(blobs);
        all.Sort(static (x, y) => x.Pack != y.Pack ? x.Pack.CompareTo(y.Pack) : x.Offset != y.Offset ? x.Offset.CompareTo(y.Offset) : x.Id.CompareTo(y.Id));
        var total = blobs.Count;
        var distinct = Fold(all);
        blobs.RemoveRange(distinct, total - distinct);

        var first = new int[indexed];
        var count = new int[indexed];
        all = CollectionsMarshal.AsSpan(blobs);
        for (var i = all.Length - 1; i >= 0; i--)
        {
            first[all[i].Pack] = i;
            count[all[i].Pack]++;
        }

        var sizes = new List<long>(Enumerable.Repeat(-1L, indexed));
        await foreach (var (name, size) in repo.Backend.ListAsync(FileKind.Pack, ct))
        {
            if (!Id.TryParse(name, out var id)) continue;
            if (numbers.TryGetValue(id, out var number)) sizes[number] = size;
            else
            {
                numbers.Add(id, packs.Count);
                packs.Add(id);
                sizes.Add(size);
            }
        }
        return new RepositoryContents
        {
            IndexFiles = indexFiles, Packs = packs, PackSizes = [.. sizes], BlobList = blobs, FirstBlob = first, BlobCount = count,
            IndexedPacks = indexed, RepeatedEntries = blobs.Count < total,
        };
    }

    /// <summary>Moves entries that repeat the one before (same pack, offset and id) to the end, in place;
    /// returns how many distinct ones there are.</summary>
    private static int Fold(Span<PackedBlob> sorted)
    {
        var n = 0;
        for (var i = 0; i < sorted.Length; i++)
            if (n == 0 || sorted[i] != sorted[n - 1]) sorted[n++] = sorted[i];
        return n;
    }
}
