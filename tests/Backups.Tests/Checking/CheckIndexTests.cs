using System.Text;
using Backups.Core;
using Backups.Core.Backends;
using Backups.Core.Checking;
using Backups.Core.Indexes;
using Backups.Core.Json;
using Backups.Core.Repositories;
using Xunit;

namespace Backups.Tests.Checking;

/// <summary>check's index on its own, with chunks of four entries so that packs lie across chunk boundaries: every
/// pack gives back exactly its blobs, a pack described twice keeps its first description, and a file damaged halfway
/// adds nothing.</summary>
public sealed class CheckIndexTests
{
    private static Id IdOf(string label) => Id.Hash(Encoding.UTF8.GetBytes(label));

    /// <summary>An index file's JSON listing packs of the given sizes; blob i of pack p is named "p/i".</summary>
    private static byte[] Json(params (string Pack, int Blobs)[] packs) => RepositoryJson.Serialize(new IndexFile
    {
        Packs = [.. packs.Select(p => new IndexPack
        {
            Id = IdOf(p.Pack),
            Blobs = [.. Enumerable.Range(0, p.Blobs).Select(i => new IndexBlob { Id = IdOf($"{p.Pack}/{i}"), Type = "data", Offset = (uint)i * 100, Length = 100 })],
        })],
    }, RepositoryJson.Context.IndexFile);

    private static UnpackedFile Unpacked(string name, byte[] json) => new(new FileHandle(FileKind.Index, name), json);

    private static void AssertPack(CheckIndex index, string pack, int blobs, string file)
    {
        Assert.True(index.TryGetPack(IdOf(pack), out var p), $"pack {pack} is not in the index");
        Assert.Equal(file, index.FileName(p.IndexFile));
        Assert.Equal(Enumerable.Range(0, blobs).Select(i => (IdOf($"{pack}/{i}"), (uint)i * 100)),
            index.BlobsOf(p).ToArray().Select(b => (b.Id, b.Offset)));
    }

    [Fact]
    public void Packs_across_chunk_boundaries_give_back_their_own_blobs_and_every_blob_is_found()
    {
        var index = new CheckIndex(chunkBits: 2);
        Assert.Empty(index.Add(Unpacked("one", Json(("a", 3), ("b", 6), ("c", 1)))));
        Assert.Empty(index.Add(Unpacked("two", Json(("d", 2)))));
        index.Seal();

        Assert.Equal(12, index.Count);
        AssertPack(index, "a", 3, "one");
        AssertPack(index, "b", 6, "one");
        AssertPack(index, "c", 1, "one");
        AssertPack(index, "d", 2, "two");
        Assert.True(index.TryGet(BlobType.Data, IdOf("b/5"), out var found));
        Assert.Equal(IdOf("b"), index.Location(found).Pack);
        Assert.False(index.TryGet(BlobType.Tree, IdOf("b/5"), out _));
    }

    [Fact]
    public void A_pack_described_again_keeps_its_first_description()
    {
        var index = new CheckIndex(chunkBits: 2);
        index.Add(Unpacked("one", Json(("a", 3))));
        index.Add(Unpacked("two", Json(("a", 5), ("b", 2))));
        index.Seal();

        Assert.Equal(5, index.Count);
        AssertPack(index, "a", 3, "one");
        AssertPack(index, "b", 2, "two");
    }

    [Fact]
    public void A_file_damaged_halfway_adds_nothing()
    {
        var index = new CheckIndex(chunkBits: 2);
        index.Add(Unpacked("one", Json(("a", 3))));
        var whole = Json(("b", 6), ("c", 2));
        // Cut inside pack c: pack b and its blobs were read before the damage showed.
        var cut = whole.AsSpan(0, Encoding.UTF8.GetString(whole).IndexOf(IdOf("c/1").ToString(), StringComparison.Ordinal)).ToArray();
        var e = Assert.Throws<RepositoryException>(() => index.Add(Unpacked("damaged", cut)));
        Assert.Equal(ErrorKind.Damaged, e.Kind);

        Assert.Equal(3, index.Count);
        Assert.Single(index.Packs);
        Assert.False(index.TryGetPack(IdOf("b"), out _));
        // The pack the damaged file named is not taken for described: a later file describes it.
        index.Add(Unpacked("two", Json(("b", 6))));
        index.Seal();
        AssertPack(index, "a", 3, "one");
        AssertPack(index, "b", 6, "two");
    }
}
