using Backups.Core.Backends;
using Backups.Core.Indexes;
using Backups.Core.Json;
using Backups.Core.Repository;
using Repo = Backups.Core.Repository.Repository;

namespace Backups.Core.Pruning;

/// <summary>
/// What the repository holds, as prune sees it: every index file, every index entry (one compact struct each,
/// sorted by pack and offset, entries repeated across index files folded into one) and every pack file with
/// its size. Packs are numbered so that entries need no pack id of their own.
/// </summary>
internal sealed class RepositoryContents
{
    private const int Loads = 8;

    /// <summary>The index files as listed before anything was changed.</summary>
    public required List<string> IndexFiles { get; init; }
    /// <summary>Pack ids by number: first those named in an index, then those only in data/.</summary>
    public required List<Id> Packs { get; init; }
    /// <summary>Size of each pack file in data/, or -1 when an index names a pack that is not there.</summary>
    public required long[] PackSizes { get; init; }
    public required PackedBlob[] Blobs { get; init; }
    /// <summary>Where each indexed pack's entries start in <see cref="Blobs"/>, and how many there are.</summary>
    public required int[] FirstBlob { get; init; }
    public required int[] BlobCount { get; init; }
    /// <summary>How many packs some index names (numbers below it); the rest are in data/ only.</summary>
    public required int IndexedPacks { get; init; }
    /// <summary>Whether some entry appeared in more than one index file (an interrupted prune leaves that).</summary>
    public required bool RepeatedEntries { get; init; }

    public bool IsPresent(int pack) => PackSizes[pack] >= 0;

    public ReadOnlySpan<PackedBlob> BlobsOf(int pack) => Blobs.AsSpan(FirstBlob[pack], BlobCount[pack]);

    public static async Task<RepositoryContents> LoadAsync(Repo repo, CancellationToken ct)
    {
        var indexFiles = new List<string>();
        await foreach (var (name, _) in repo.Backend.ListAsync(FileKind.Index, ct)) indexFiles.Add(name);

        var packs = new List<Id>();
        var numbers = new Dictionary<Id, int>();
        var blobs = new List<PackedBlob>();
        await Parallel.ForEachAsync(indexFiles, new ParallelOptions { MaxDegreeOfParallelism = Loads, CancellationToken = ct }, async (name, token) =>
        {
            var file = new FileHandle(FileKind.Index, name);
            var index = RepositoryJson.Deserialize(await repo.LoadUnpackedAsync(file, token), RepositoryJson.Context.IndexFile, file.ToString());
            lock (blobs)
                foreach (var pack in index.Packs)
                {
                    if (!numbers.TryGetValue(pack.Id, out var number))
                    {
                        numbers.Add(pack.Id, number = packs.Count);
                        packs.Add(pack.Id);
                    }
                    foreach (var b in pack.Blobs)
                        blobs.Add(new PackedBlob(b.Id, TypeOf(b, file), number, b.Offset, b.Length, b.UncompressedLength));
                }
        });
        var indexed = packs.Count;

        var sorted = blobs.ToArray();
        blobs.Clear();
        blobs.TrimExcess();
        sorted.AsSpan().Sort(static (x, y) => x.Pack != y.Pack ? x.Pack.CompareTo(y.Pack) : x.Offset != y.Offset ? x.Offset.CompareTo(y.Offset) : x.Id.CompareTo(y.Id));
        var distinct = Fold(sorted);

        var first = new int[indexed];
        var count = new int[indexed];
        for (var i = distinct.Length - 1; i >= 0; i--)
        {
            first[distinct[i].Pack] = i;
            count[distinct[i].Pack]++;
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
            IndexFiles = indexFiles, Packs = packs, PackSizes = [.. sizes], Blobs = distinct, FirstBlob = first, BlobCount = count,
            IndexedPacks = indexed, RepeatedEntries = distinct.Length < sorted.Length,
        };
    }

    /// <summary>Drops entries that repeat the one before (same pack, offset and id), in place.</summary>
    private static PackedBlob[] Fold(PackedBlob[] sorted)
    {
        var n = 0;
        for (var i = 0; i < sorted.Length; i++)
            if (n == 0 || sorted[i] != sorted[n - 1]) sorted[n++] = sorted[i];
        return n == sorted.Length ? sorted : sorted[..n];
    }

    private static BlobType TypeOf(IndexBlob b, FileHandle file) => b.Type switch
    {
        "data" => BlobType.Data,
        "tree" => BlobType.Tree,
        _ => throw new RepositoryException(ErrorKind.Damaged, $"{file} is damaged: unknown blob type '{b.Type}'"),
    };
}
