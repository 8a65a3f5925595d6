using Backups.Core.Repositories;

namespace Backups.Core.Indexes;

/// <summary>
/// Every blob the repository holds, from all index files plus the packs this process has stored. Data and
/// tree blobs are kept apart because restic keys blobs by (id, type). Thread-safe: backup workers look up
/// and add concurrently. Compact on purpose (a Raspberry Pi or a small Lambda opens big repositories): a blob's
/// pack is a number into one list of pack ids, so an entry is its 32-byte id and 16 bytes of place.
/// </summary>
public sealed class MasterIndex
{
    private readonly record struct Place(int Pack, uint Offset, uint Length, uint UncompressedLength);

    private readonly Dictionary<Id, Place> _data = [];
    private readonly Dictionary<Id, Place> _trees = [];
    private readonly List<Id> _packs = [];
    private readonly Dictionary<Id, int> _packNumbers = [];
    private readonly Lock _lock = new();

    private Dictionary<Id, Place> Of(BlobType type) => type == BlobType.Data ? _data : _trees;

    public int Count { get { lock (_lock) return _data.Count + _trees.Count; } }

    public bool Has(BlobType type, Id id)
    {
        lock (_lock) return Of(type).ContainsKey(id);
    }

    public bool TryGet(BlobType type, Id id, out BlobLocation location)
    {
        lock (_lock)
        {
            if (!Of(type).TryGetValue(id, out var p))
            {
                location = default;
                return false;
            }
            location = new BlobLocation(_packs[p.Pack], type, p.Offset, p.Length, p.UncompressedLength);
            return true;
        }
    }

    public void Add(BlobLocation location, Id id)
    {
        lock (_lock) Of(location.Type).TryAdd(id, new Place(PackNumber(location.Pack), location.Offset, location.Length, location.UncompressedLength));
    }

    private int PackNumber(Id pack)
    {
        if (_packNumbers.TryGetValue(pack, out var n)) return n;
        _packs.Add(pack);
        return _packNumbers[pack] = _packs.Count - 1;
    }

    public void Clear()
    {
        lock (_lock)
        {
            _data.Clear();
            _trees.Clear();
            _packs.Clear();
            _packNumbers.Clear();
        }
    }

    public void AddFile(IndexFile file, string name)
    {
        lock (_lock)
        {
            foreach (var pack in file.Packs)
            {
                var number = PackNumber(pack.Id);
                foreach (var b in pack.Blobs)
                {
                    var type = b.Type switch
                    {
                        "data" => BlobType.Data,
                        "tree" => BlobType.Tree,
                        _ => throw new RepositoryException(ErrorKind.Damaged, $"index/{name} is damaged: unknown blob type '{b.Type}'"),
                    };
                    Of(type).TryAdd(b.Id, new Place(number, b.Offset, b.Length, b.UncompressedLength));
                }
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
