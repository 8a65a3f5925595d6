using Backups.Core.Indexes;

namespace Backups.Core.Pruning;

/// <summary>
/// The distinct blobs (id and type) that the packs which exist hold, numbered in sorted order, so that prune's sets of
/// blobs are bit arrays, a bit a blob, rather than hash sets (about 50 bytes a blob, twice that while one grows):
/// prune of two million blobs held two of them. Costs 8 bytes an entry.
/// </summary>
internal sealed class BlobKeys
{
    private readonly RepositoryContents _contents;
    private readonly int[] _keyOf;

    /// <summary>Entry numbers of the existing packs, sorted by blob: copies of one blob side by side, in entry order.</summary>
    public int[] Sorted { get; }
    /// <summary>How many distinct blobs there are.</summary>
    public int Count { get; }

    public BlobKeys(RepositoryContents contents)
    {
        _contents = contents;
        var sorted = Enumerable.Range(0, contents.Blobs.Length).Where(i => contents.IsPresent(contents.Blobs[i].Pack)).ToArray();
        sorted.AsSpan().Sort((x, y) =>
        {
            var c = Compare(contents.Blobs[x].Key, contents.Blobs[y].Key);
            return c != 0 ? c : x.CompareTo(y);
        });
        _keyOf = new int[contents.Blobs.Length];
        Array.Fill(_keyOf, -1);
        var key = -1;
        for (var i = 0; i < sorted.Length; i++)
        {
            if (i == 0 || contents.Blobs[sorted[i]].Key != contents.Blobs[sorted[i - 1]].Key) key++;
            _keyOf[sorted[i]] = key;
        }
        Sorted = sorted;
        Count = key + 1;
    }

    private static int Compare(BlobKey a, BlobKey b)
    {
        var c = a.Id.CompareTo(b.Id);
        return c != 0 ? c : a.Type.CompareTo(b.Type);
    }

    /// <summary>The blob number of an entry, or -1 when its pack does not exist.</summary>
    public int KeyOf(int entry) => _keyOf[entry];

    /// <summary>The blob's number and its first entry in an existing pack; false when no existing pack holds it.</summary>
    public bool TryFind(BlobKey key, out int number, out int entry)
    {
        int lo = 0, hi = Sorted.Length;
        while (lo < hi)
        {
            var mid = lo + (hi - lo) / 2;
            if (Compare(_contents.Blobs[Sorted[mid]].Key, key) < 0) lo = mid + 1;
            else hi = mid;
        }
        var found = lo < Sorted.Length && _contents.Blobs[Sorted[lo]].Key == key;
        entry = found ? Sorted[lo] : -1;
        number = found ? _keyOf[entry] : -1;
        return found;
    }
}

/// <summary>A set of the blobs of <see cref="BlobKeys"/>, by number.</summary>
internal sealed class BlobSet(int keys)
{
    private readonly ulong[] _bits = new ulong[(keys + 63) / 64];

    public int Count { get; private set; }

    public bool Contains(int key) => (_bits[key >> 6] & (1UL << key)) != 0;

    /// <summary>False when it was in the set already.</summary>
    public bool Add(int key)
    {
        ref var word = ref _bits[key >> 6];
        if ((word & (1UL << key)) != 0) return false;
        word |= 1UL << key;
        Count++;
        return true;
    }

    /// <summary>False when it was not in the set.</summary>
    public bool Remove(int key)
    {
        ref var word = ref _bits[key >> 6];
        if ((word & (1UL << key)) == 0) return false;
        word &= ~(1UL << key);
        Count--;
        return true;
    }

    public void Clear()
    {
        Array.Clear(_bits);
        Count = 0;
    }
}
