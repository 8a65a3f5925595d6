using System.Runtime.InteropServices;
using Backups.Core.Crypto;
using Backups.Core.Indexes;
using Backups.Core.Packs;

namespace Backups.Core.Checking;

/// <summary>One index entry: a blob and where its pack holds it. Packed to 52 bytes rather than padded to 56: check
/// holds one per blob of the repository.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal readonly record struct IndexedBlob(Id Id, int Pack, uint Offset, uint Length, uint UncompressedLength, BlobType Type)
{
    public long End => (long)Offset + Length;
}

/// <summary>A pack as the index files describe it: its blobs are <c>Blobs[First..First+Count]</c>.</summary>
internal readonly record struct IndexedPack(Id Id, int IndexFile, int First, int Count);

/// <summary>
/// Every index file's entries in flat arrays (56 bytes a blob with its place in the sort order, no per-blob
/// objects), grouped by pack and searchable by (type, id): restic's indexes hold millions of blobs.
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
        CollectionsMarshal.AsSpan(_blobs).Slice(pack.First, pack.Count);

    public bool TryGetPack(Id id, out IndexedPack pack)
    {
        var found = _packByName.TryGetValue(id, out var i);
        pack = found ? _packs[i] : default;
        return found;
    }

    /// <summary>One index file's entries, read before any of them joins the index: a file found damaged halfway adds
    /// nothing. Its packs are numbered in the order the file lists them, and each pack's entries follow one another.</summary>
    public sealed class FileEntries
    {
        internal List<Id> Packs { get; } = [];
        internal List<PackedBlob> Blobs { get; } = [];
        /// <summary>The blob types other than data and tree that the file names (their entries are left out).</summary>
        public List<string> UnknownTypes { get; } = [];
    }

    /// <summary>Reads an index file's JSON (<paramref name="file"/> names it in errors); no lock is needed.</summary>
    public static FileEntries Read(ReadOnlySpan<byte> json, string file)
    {
        var entries = new FileEntries();
        IndexEntries.Read(json, file, id =>
        {
            entries.Packs.Add(id);
            return entries.Packs.Count - 1;
        }, entries.Blobs.Add, entries.UnknownTypes.Add);
        return entries;
    }

    /// <summary>Adds one index file's entries; a pack already described by an earlier file keeps that description.</summary>
    public void Add(FileEntries entries, string fileName)
    {
        var fileIndex = _files.Count;
        _files.Add(fileName);
        var blobs = CollectionsMarshal.AsSpan(entries.Blobs);
        var next = 0;
        for (var local = 0; local < entries.Packs.Count; local++)
        {
            var from = next;
            while (next < blobs.Length && blobs[next].Pack == local) next++;
            var id = entries.Packs[local];
            if (_packByName.ContainsKey(id)) continue;
            var first = _blobs.Count;
            foreach (var b in blobs[from..next]) _blobs.Add(new IndexedBlob(b.Id, _packs.Count, b.Offset, b.Length, b.UncompressedLength, b.Type));
            _packByName[id] = _packs.Count;
            _packs.Add(new IndexedPack(id, fileIndex, first, _blobs.Count - first));
        }
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
