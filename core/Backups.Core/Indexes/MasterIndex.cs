using Backups.Core.Repositories;

namespace Backups.Core.Indexes;

/// <summary>
/// Every blob the repository holds, from all index files plus the packs this process has stored. Data and
/// tree blobs are kept apart because restic keys blobs by (id, type). Thread-safe: backup workers look up
/// and add concurrently. Compact on purpose (a Raspberry Pi or a small Lambda opens big repositories): a blob's
/// pack is a number into one list of pack ids, so an entry is its 32-byte id and 16 bytes of place, and index
/// files are read straight into entries, never into an object per blob.
/// </summary>
public sealed class MasterIndex
{
    private readonly BlobTable _data = new();
    private readonly BlobTable _trees = new();
    private readonly List<Id> _packs = [];
    private readonly Dictionary<Id, int> _packNumbers = [];
    private readonly Lock _lock = new();

    private BlobTable Of(BlobType type) => type == BlobType.Data ? _data : _trees;

    public int Count { get { lock (_lock) return _data.Count + _trees.Count; } }

    public bool Has(BlobType type, Id id)
    {
        lock (_lock) return Of(type).TryGet(id, out _);
    }

    public bool TryGet(BlobType type, Id id, out BlobLocation location)
    {
        lock (_lock)
        {
            if (!Of(type).TryGet(id, out var e))
            {
                location = default;
                return false;
            }
            location = new BlobLocation(_packs[e.Pack], type, e.Offset, e.Length, e.UncompressedLength);
            return true;
        }
    }

    public void Add(BlobLocation location, Id id)
    {
        lock (_lock) Of(location.Type).TryAdd(new Entry(id, PackNumber(location.Pack), location.Offset, location.Length, location.UncompressedLength));
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

    /// <summary>Adds the entries of an index file; a blob already known keeps its place.</summary>
    public void AddFile(UnpackedFile file)
    {
        lock (_lock)
            IndexEntries.Read(file, PackNumber, b => Of(b.Type).TryAdd(new Entry(b.Id, b.Pack, b.Offset, b.Length, b.UncompressedLength)));
    }

    /// <summary>A blob and its place: 48 bytes, nothing else per blob.</summary>
    private readonly record struct Entry(Id Id, int Pack, uint Offset, uint Length, uint UncompressedLength);

    /// <summary>
    /// The blobs of one type. Entries lie in fixed-size chunks that never move, so growing copies no entry and never
    /// holds the index twice (a Dictionary doubles its entry array, old and new alive at once); they are found
    /// through an open-addressing table of entry numbers, 4 bytes a slot, at most three quarters full.
    /// </summary>
    private sealed class BlobTable
    {
        // 4,096 entries (192 KiB) a chunk: at most that much lies unused at the end.
        private const int ChunkBits = 12, ChunkSize = 1 << ChunkBits;
        private readonly List<Entry[]> _chunks = [];
        // Entry number + 1 in each slot, 0 where free; linear probing from the id's hash code.
        private int[] _slots = new int[16];

        public int Count { get; private set; }

        private ref Entry At(int number) => ref _chunks[number >> ChunkBits][number & (ChunkSize - 1)];

        /// <summary>The slot that holds the id, or the free slot where it would go.</summary>
        private int Find(Id id)
        {
            var mask = _slots.Length - 1;
            for (var slot = id.GetHashCode() & mask; ; slot = (slot + 1) & mask)
            {
                var n = _slots[slot];
                if (n == 0 || At(n - 1).Id == id) return slot;
            }
        }

        public bool TryGet(Id id, out Entry entry)
        {
            var n = _slots[Find(id)];
            entry = n == 0 ? default : At(n - 1);
            return n != 0;
        }

        /// <summary>Adds the entry unless its id is here already (the first place is kept, as restic keeps it).</summary>
        public void TryAdd(Entry entry)
        {
            var slot = Find(entry.Id);
            if (_slots[slot] != 0) return;
            if (Count == _chunks.Count * ChunkSize) _chunks.Add(new Entry[ChunkSize]);
            At(Count) = entry;
            _slots[slot] = ++Count;
            if (Count > _slots.Length / 4 * 3) Grow();
        }

        private void Grow()
        {
            var slots = new int[_slots.Length * 2];
            var mask = slots.Length - 1;
            for (var n = 0; n < Count; n++)
            {
                var slot = At(n).Id.GetHashCode() & mask;
                while (slots[slot] != 0) slot = (slot + 1) & mask;
                slots[slot] = n + 1;
            }
            _slots = slots;
        }

        public void Clear()
        {
            _chunks.Clear();
            _slots = new int[16];
            Count = 0;
        }
    }
}
