using Backups.Core;
using Backups.Core.Backends;
using Backups.Core.Indexes;
using Backups.Core.Json;
using Backups.Core.Packs;
using Backups.Core.Repositories;
using Xunit;

namespace Backups.Tests.Indexes;

/// <summary>The master index on its own: lookups by (type, id), the first place of a blob kept when it is listed
/// twice (as restic keeps the first), and pack numbers that give every blob back its own pack id however many
/// packs and however they arrive (index files and this process's packs, interleaved).</summary>
public sealed class MasterIndexTests
{
    private static Id IdOf(string label) => Id.Hash(System.Text.Encoding.UTF8.GetBytes(label));

    /// <summary>An index file's JSON, as the repository hands it over decrypted.</summary>
    private static byte[] Json(IndexFile file) => RepositoryJson.Serialize(file, RepositoryJson.Context.IndexFile);

    /// <summary>The JSON as the repository hands an index file over (uncompressed, as version 1 stores it).</summary>
    private static UnpackedFile Unpacked(byte[] json, string name) => new(new FileHandle(FileKind.Index, name), json);

    /// <summary>An index file listing one pack's blobs.</summary>
    private static byte[] IndexOf(Id pack, IEnumerable<(PackEntry Entry, uint Offset)> blobs) => Json(new IndexFile
    {
        Packs =
        [
            new IndexPack
            {
                Id = pack,
                Blobs = [.. blobs.Select(b => new IndexBlob
                {
                    Id = b.Entry.Id, Type = b.Entry.Type == BlobType.Data ? "data" : "tree", Offset = b.Offset,
                    Length = b.Entry.Length, UncompressedLength = b.Entry.UncompressedLength,
                })],
            },
        ],
    });

    [Fact]
    public void A_blob_is_found_by_type_and_id_with_its_place_and_an_unknown_one_is_not()
    {
        var index = new MasterIndex();
        var (blob, pack) = (IdOf("blob"), IdOf("pack"));
        var place = new BlobLocation(pack, BlobType.Data, 123, 456, 789);
        index.Add(place, blob);

        Assert.True(index.Has(BlobType.Data, blob));
        Assert.True(index.TryGet(BlobType.Data, blob, out var found));
        Assert.Equal(place, found);
        Assert.False(index.Has(BlobType.Data, IdOf("other")));
        Assert.False(index.TryGet(BlobType.Data, IdOf("other"), out _));
        Assert.Equal(1, index.Count);
    }

    [Fact]
    public void The_same_id_as_data_and_as_tree_are_two_blobs()
    {
        var index = new MasterIndex();
        var id = IdOf("same bytes");
        index.Add(new BlobLocation(IdOf("data pack"), BlobType.Data, 0, 10, 0), id);
        Assert.False(index.Has(BlobType.Tree, id));
        index.Add(new BlobLocation(IdOf("tree pack"), BlobType.Tree, 5, 20, 30), id);

        Assert.Equal(2, index.Count);
        Assert.True(index.TryGet(BlobType.Data, id, out var data));
        Assert.True(index.TryGet(BlobType.Tree, id, out var tree));
        Assert.Equal(new BlobLocation(IdOf("data pack"), BlobType.Data, 0, 10, 0), data);
        Assert.Equal(new BlobLocation(IdOf("tree pack"), BlobType.Tree, 5, 20, 30), tree);
    }

    [Fact]
    public void A_blob_listed_twice_keeps_its_first_place_whether_added_or_read_from_an_index_file()
    {
        var index = new MasterIndex();
        var blob = IdOf("duplicate");
        var first = new BlobLocation(IdOf("first pack"), BlobType.Data, 0, 100, 0);
        index.Add(first, blob);
        index.Add(first with { Pack = IdOf("second pack"), Offset = 64 }, blob);
        index.AddFile(Unpacked(Json(new IndexFile
        {
            Packs = [new IndexPack { Id = IdOf("third pack"), Blobs = [new IndexBlob { Id = blob, Type = "data", Offset = 7, Length = 100 }] }],
        }), "an-index-file"));

        Assert.Equal(1, index.Count);
        Assert.True(index.TryGet(BlobType.Data, blob, out var found));
        Assert.Equal(first, found);
    }

    [Fact]
    public void Many_blobs_in_many_packs_each_give_back_their_own_pack_offset_and_lengths()
    {
        const int packs = 1_000, perPack = 100;
        var index = new MasterIndex();
        // Even packs arrive in index files, odd ones as packs this process stored, interleaved; some packs appear
        // in both ways, so that a pack already numbered is found again rather than numbered twice.
        for (var p = 0; p < packs; p++)
        {
            var pack = IdOf($"pack {p}");
            var blobs = Enumerable.Range(0, perPack)
                .Select(b => (Entry: new PackEntry(IdOf($"blob {p}/{b}"), b % 3 == 0 ? BlobType.Tree : BlobType.Data, (uint)(1000 + b), (uint)(b % 2 * 5000)), Offset: (uint)(b * 2000)))
                .ToList();
            if (p % 2 == 0) index.AddFile(Unpacked(IndexOf(pack, blobs), $"index {p}"));
            else foreach (var (entry, offset) in blobs)
                    index.Add(new BlobLocation(pack, entry.Type, offset, entry.Length, entry.UncompressedLength), entry.Id);
            if (p % 7 == 0) index.Add(new BlobLocation(pack, BlobType.Data, 1, 2, 3), IdOf($"extra {p}"));
        }

        Assert.Equal(packs * perPack + (packs + 6) / 7, index.Count);
        for (var p = 0; p < packs; p++)
            for (var b = 0; b < perPack; b++)
            {
                var type = b % 3 == 0 ? BlobType.Tree : BlobType.Data;
                Assert.True(index.TryGet(type, IdOf($"blob {p}/{b}"), out var found), $"blob {p}/{b}");
                Assert.Equal(new BlobLocation(IdOf($"pack {p}"), type, (uint)(b * 2000), (uint)(1000 + b), (uint)(b % 2 * 5000)), found);
                Assert.False(index.Has(type == BlobType.Tree ? BlobType.Data : BlobType.Tree, IdOf($"blob {p}/{b}")));
            }
        for (var p = 0; p < packs; p += 7)
        {
            Assert.True(index.TryGet(BlobType.Data, IdOf($"extra {p}"), out var extra));
            Assert.Equal(IdOf($"pack {p}"), extra.Pack);
        }
    }

    [Fact]
    public void Adding_from_many_threads_at_once_loses_no_blob()
    {
        var index = new MasterIndex();
        Parallel.For(0, 8, t =>
        {
            for (var i = 0; i < 5_000; i++)
                index.Add(new BlobLocation(IdOf($"pack {t}/{i / 100}"), BlobType.Data, (uint)i, 1, 0), IdOf($"blob {t}/{i}"));
        });
        Assert.Equal(40_000, index.Count);
        for (var t = 0; t < 8; t++)
            for (var i = 0; i < 5_000; i += 37)
            {
                Assert.True(index.TryGet(BlobType.Data, IdOf($"blob {t}/{i}"), out var found));
                Assert.Equal(IdOf($"pack {t}/{i / 100}"), found.Pack);
            }
    }

    [Fact]
    public void An_index_file_with_an_unknown_blob_type_is_damage_naming_the_file()
    {
        var index = new MasterIndex();
        var json = Json(new IndexFile
        {
            Packs = [new IndexPack { Id = IdOf("pack"), Blobs = [new IndexBlob { Id = IdOf("blob"), Type = "sound", Length = 1 }] }],
        });
        var e = Assert.Throws<RepositoryException>(() => index.AddFile(Unpacked(json, "0123abcd")));
        Assert.Equal(ErrorKind.Damaged, e.Kind);
        Assert.Equal("index/0123abcd is damaged: unknown blob type 'sound'", e.Message);
    }

    /// <summary>
    /// What an entry costs, growth included: the id (32 bytes) and its place (16) plus a share of the slot table and
    /// of the arrays left behind while it grew, however many packs. A Dictionary of the same entries allocates about
    /// 140 bytes an entry (its entries carry a hash code and a link, and every resize copies all of them into an
    /// array twice the size); the bound is what lets a 512 MB Lambda open an index of millions of blobs.
    /// </summary>
    [Fact]
    public void An_entry_costs_its_id_and_place_and_little_more_whether_added_or_read_from_index_files()
    {
        const int blobs = 150_000, perPack = 500;
        var ids = Enumerable.Range(0, blobs).Select(i => IdOf($"blob {i}")).ToArray();
        var packs = Enumerable.Range(0, blobs / perPack).Select(p => IdOf($"pack {p}")).ToArray();
        // Half the packs as one index file each, read before the counting starts (that JSON is the store's, not the index's).
        var files = Enumerable.Range(0, packs.Length / 2).Select(p => Unpacked(IndexOf(packs[p],
            Enumerable.Range(p * perPack, perPack).Select(i => (new PackEntry(ids[i], BlobType.Data, 100, 0), (uint)(i % perPack * 100)))), $"index {p}")).ToArray();

        var index = new MasterIndex();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var p = 0; p < files.Length; p++) index.AddFile(files[p]);
        for (var i = files.Length * perPack; i < blobs; i++)
            index.Add(new BlobLocation(packs[i / perPack], BlobType.Data, (uint)(i % perPack * 100), 100, 0), ids[i]);
        var perEntry = (double)(GC.GetAllocatedBytesForCurrentThread() - before) / blobs;

        Assert.Equal(blobs, index.Count);
        Assert.True(perEntry <= 80, $"{perEntry:F1} bytes allocated per entry");
        Assert.True(index.TryGet(BlobType.Data, ids[12_345], out var found));
        Assert.Equal(new BlobLocation(packs[12_345 / perPack], BlobType.Data, 12_345 % perPack * 100, 100, 0), found);
    }
}
