using Backups.Core.Indexes;
using Backups.Core.Packs;
using Backups.Core.Crypto;

namespace Backups.Core.Checking;

/// <summary>One index entry: a blob and where its pack holds it.</summary>
internal readonly record struct IndexedBlob(Id Id, int Pack, uint Offset, uint Length, uint UncompressedLength, BlobType Type)
{
    public long End => (long)Offset + Length;
}

/// <summary>A pack as the index files describe it: its blobs are <c>Blobs[First..First+Count]</c>.</summary>
internal readonly record struct IndexedPack(Id Id, int IndexFile, int First, int Count);

/// <summary>
/// Every index file's entries in flat arrays (about 56 bytes a blob, with no per-blob objects), grouped by pack
/// and searchable by (type, id): restic's indexes hold millions of blobs.
/// </summary>
internal sealed class CheckIndex
{
    private readonly List<IndexedBlob> _blobs = [];
    private readonly List<IndexedPack> _packs = [];
    private readonly Dictionary<Id, int> _packByName = [];
    private readonly List<string> _files = [];
    private int[] _sorted = [];

    public int Count => _blobs.Count;
    public IReadOnlyList<IndexedPack> Packs => _packs;
    public string FileName(int index) => _files[index];

    public ReadOnlySpan<IndexedBlob> BlobsOf(IndexedPack pack) =>
        System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_blobs).Slice(pack.First, pack.Count);

    public bool TryGetPack(Id id, out IndexedPack pack)
    {
        var found = _packByName.TryGetValue(id, out var i);
        pack = found ? _packs[i] : default;
        return found;
    }

    /// <summary>Adds one index file; a pack already described by an earlier file keeps that description.
    /// Returns the unknown blob types found (the caller reports them).</summary>
    public IEnumerable<string> Add(IndexFile file, string fileName)
    {
        var unknown = new List<string>();
        var fileIndex = _files.Count;
        _files.Add(fileName);
        foreach (var pack in file.Packs)
        {
            if (_packByName.ContainsKey(pack.Id)) continue;
            var first = _blobs.Count;
            foreach (var b in pack.Blobs)
            {
                BlobType type;
                if (b.Type == "data") type = BlobType.Data;
                else if (b.Type == "tree") type = BlobType.Tree;
                else
                {
                    unknown.Add(b.Type);
                    continue;
                }
                _blobs.Add(new IndexedBlob(b.Id, _packs.Count, b.Offset, b.Length, b.UncompressedLength, type));
            }
            _packByName[pack.Id] = _packs.Count;
            _packs.Add(new IndexedPack(pack.Id, fileIndex, first, _blobs.Count - first));
        }
        return unknown;
    }

    /// <summary>Call once after the last <see cref="Add"/>, before lookups.</summary>
    public void Seal()
    {
        _sorted = new int[_blobs.Count];
        for (var i = 0; i < _sorted.Length; i++) _sorted[i] = i;
        Array.Sort(_sorted, (x, y) => Compare(_blobs[x].Type, _blobs[x].Id, _blobs[y].Type, _blobs[y].Id));
    }

    private static int Compare(BlobType t1, Id id1, BlobType t2, Id id2) => t1 != t2 ? t1.CompareTo(t2) : id1.CompareTo(id2);

    /// <summary>One place where the blob is stored (the first, if several packs hold it).</summary>
    public bool TryGet(BlobType type, Id id, out IndexedBlob blob)
    {
        int lo = 0, hi = _sorted.Length - 1;
        while (lo <= hi)
        {
            var mid = lo + (hi - lo) / 2;
            var candidate = _blobs[_sorted[mid]];
            var c = Compare(candidate.Type, candidate.Id, type, id);
            if (c == 0)
            {
                blob = candidate;
                return true;
            }
            if (c < 0) lo = mid + 1;
            else hi = mid - 1;
        }
        blob = default;
        return false;
    }

    public BlobLocation Location(IndexedBlob blob) =>
        new(_packs[blob.Pack].Id, blob.Type, blob.Offset, blob.Length, blob.UncompressedLength);

    /// <summary>The pack's size as its blobs imply: their bytes, the encrypted header listing them and its length field.</summary>
    public static long ExpectedSize(ReadOnlySpan<IndexedBlob> blobs)
    {
        long size = CryptoKey.Overhead + PackHeader.TrailerSize;
        foreach (var b in blobs) size += b.Length + (b.UncompressedLength == 0 ? PackHeader.PlainEntrySize : PackHeader.CompressedEntrySize);
        return size;
    }
}
