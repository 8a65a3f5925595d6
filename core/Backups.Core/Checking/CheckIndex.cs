using System.Runtime.InteropServices;
using Backups.Core.Crypto;
using Backups.Core.Indexes;
using Backups.Core.Packs;
using Backups.Core.Repositories;

namespace Backups.Core.Checking;

/// <summary>One index entry: a blob and where its pack holds it. Packed to 52 bytes rather than padded to 56: check
/// holds one per blob of the repository.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal readonly record struct IndexedBlob(Id Id, int Pack, uint Offset, uint Length, uint UncompressedLength, BlobType Type)
{
    public long End => (long)Offset + Length;
}

/// <summary>A pack as the index files describe it: its blobs are the entries numbered First to First+Count-1.</summary>
internal readonly record struct IndexedPack(Id Id, int IndexFile, int First, int Count);

/// <summary>
/// Every index file's entries (56 bytes a blob with its place in the sort order, no per-blob objects), grouped by
/// pack and searchable by (type, id): restic's indexes hold millions of blobs. Entries lie in fixed-size chunks that
/// never move, so growing copies nothing: a list doubles its array, old and new alive at once (160 MiB at two million
/// blobs).
/// </summary>
/// <param name="chunkBits">65,536 entries (3.4 MiB) a chunk; tests make them tiny.</param>
internal sealed class CheckIndex(int chunkBits = 16)
{
    private readonly int _chunkSize = 1 << chunkBits;
    private readonly List<IndexedBlob[]> _chunks = [];
    private readonly List<IndexedPack> _packs = [];
    private readonly Dictionary<Id, int> _packByName = [];
    private readonly List<string> _files = [];
    private int[] _sorted = [];

    public int Count { get; private set; }
    public IReadOnlyList<IndexedPack> Packs => _packs;
    public string FileName(int index) => _files[index];

    private ref IndexedBlob At(int number) => ref _chunks[number >> chunkBits][number & (_chunkSize - 1)];

    public ReadOnlySpan<IndexedBlob> BlobsOf(IndexedPack pack)
    {
        var offset = pack.First & (_chunkSize - 1);
        if (pack.Count == 0) return [];
        if (offset + pack.Count <= _chunkSize) return _chunks[pack.First >> chunkBits].AsSpan(offset, pack.Count);
        // A pack across a chunk boundary (one at most per boundary) is copied together.
        var blobs = new IndexedBlob[pack.Count];
        for (var i = 0; i < blobs.Length; i++) blobs[i] = At(pack.First + i);
        return blobs;
    }

    public bool TryGetPack(Id id, out IndexedPack pack)
    {
        var found = _packByName.TryGetValue(id, out var i);
        pack = found ? _packs[i] : default;
        return found;
    }

    /// <summary>
    /// Adds one index file's entries, read from its JSON straight into the chunks; a pack already described (by an
    /// earlier file, or earlier in this one) keeps that description. A file found damaged halfway adds nothing. Not
    /// thread-safe.
    /// </summary>
    /// <returns>The blob types other than data and tree that the file names (their entries are left out).</returns>
    public List<string> Add(UnpackedFile file)
    {
        var (blobs, packs, fileIndex) = (Count, _packs.Count, _files.Count);
        var unknownTypes = new List<string>();
        _files.Add(file.File.Name);
        try
        {
            // IndexEntries gives a pack's blobs right after the pack (those listed before its id too), so each pack's
            // entries follow one another from where the pack was met.
            IndexEntries.Read(file, id =>
            {
                if (!_packByName.TryAdd(id, _packs.Count)) return -1;
                _packs.Add(new IndexedPack(id, fileIndex, Count, 0));
                return _packs.Count - 1;
            }, b =>
            {
                if (b.Pack < 0) return;
                if (Count == _chunks.Count * _chunkSize) _chunks.Add(new IndexedBlob[_chunkSize]);
                At(Count++) = new IndexedBlob(b.Id, b.Pack, b.Offset, b.Length, b.UncompressedLength, b.Type);
                var pack = _packs[b.Pack];
                _packs[b.Pack] = pack with { Count = pack.Count + 1 };
            }, unknownTypes.Add);
        }
        catch
        {
            foreach (var pack in _packs.Skip(packs)) _packByName.Remove(pack.Id);
            _packs.RemoveRange(packs, _packs.Count - packs);
            _files.RemoveAt(fileIndex);
            Count = blobs;
            throw;
        }
        return unknownTypes;
    }

    /// <summary>Call once after the last <see cref="Add"/>, before lookups.</summary>
    public void Seal()
    {
        _sorted = new int[Count];
        for (var i = 0; i < _sorted.Length; i++) _sorted[i] = i;
        Array.Sort(_sorted, (x, y) => Compare(At(x).Type, At(x).Id, At(y).Type, At(y).Id));
    }

    private static int Compare(BlobType t1, Id id1, BlobType t2, Id id2) => t1 != t2 ? t1.CompareTo(t2) : id1.CompareTo(id2);

    /// <summary>One place where the blob is stored (the first, if several packs hold it).</summary>
    public bool TryGet(BlobType type, Id id, out IndexedBlob blob)
    {
        int lo = 0, hi = _sorted.Length - 1;
        while (lo <= hi)
        {
            var mid = lo + (hi - lo) / 2;
            var candidate = At(_sorted[mid]);
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
