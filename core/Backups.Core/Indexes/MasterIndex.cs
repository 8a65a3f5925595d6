using Backups.Core.Repository;

namespace Backups.Core.Indexes;

/// <summary>
/// Every blob the repository holds, from all index files plus the packs this process has stored. Data and
/// tree blobs are kept apart because restic keys blobs by (id, type). Thread-safe: backup workers look up
/// and add concurrently.
/// </summary>
public sealed class MasterIndex
{
    private readonly Dictionary<Id, BlobLocation> _data = [];
    private readonly Dictionary<Id, BlobLocation> _trees = [];
    private readonly Lock _lock = new();

    private Dictionary<Id, BlobLocation> Of(BlobType type) => type == BlobType.Data ? _data : _trees;

    public int Count { get { lock (_lock) return _data.Count + _trees.Count; } }

    public bool Has(BlobType type, Id id)
    {
        lock (_lock) return Of(type).ContainsKey(id);
    }

    public bool TryGet(BlobType type, Id id, out BlobLocation location)
    {
        lock (_lock) return Of(type).TryGetValue(id, out location);
    }

    public void Add(BlobLocation location, Id id)
    {
        lock (_lock) Of(location.Type).TryAdd(id, location);
    }

    public void AddFile(IndexFile file, string name)
    {
        lock (_lock)
        {
            foreach (var pack in file.Packs)
                foreach (var b in pack.Blobs)
                {
                    var type = b.Type switch
                    {
                        "data" => BlobType.Data,
                        "tree" => BlobType.Tree,
                        _ => throw new RepositoryException(ErrorKind.Damaged, $"index/{name} is damaged: unknown blob type '{b.Type}'"),
                    };
                    Of(type).TryAdd(b.Id, new BlobLocation(pack.Id, type, b.Offset, b.Length, b.UncompressedLength));
                }
        }
    }

    /// <summary>The index file that describes the given packs' entries.</summary>
    public static IndexFile Describe(IEnumerable<(Id Pack, IReadOnlyList<(Packs.PackEntry Entry, uint Offset)> Blobs)> packs) => new()
    {
        Packs = packs.Select(p => new IndexPack
        {
            Id = p.Pack,
            Blobs = p.Blobs.Select(b => new IndexBlob
            {
                Id = b.Entry.Id,
                Type = b.Entry.Type == BlobType.Data ? "data" : "tree",
                Offset = b.Offset,
                Length = b.Entry.Length,
                UncompressedLength = b.Entry.UncompressedLength,
            }).ToList(),
        }).ToList(),
    };
}
