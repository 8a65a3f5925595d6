using System.Text;
using Backups.Core;
using Backups.Core.Backends;
using Backups.Core.Compression;
using Backups.Core.Indexes;
using Backups.Core.Repositories;
using Xunit;

namespace Backups.Tests.Indexes;

/// <summary>A compressed index file is read as it is decompressed, 64 KiB at a time: entries cut by a piece's end,
/// a pack whose blobs come before its id, and a value longer than a piece all read as from the whole JSON.</summary>
public sealed class IndexEntriesTests
{
    private static Id IdOf(string label) => Id.Hash(Encoding.UTF8.GetBytes(label));

    /// <summary>Three packs of 1,500 blobs (about 190 KiB of JSON each); the second lists its blobs before its id, and
    /// a 100 KiB string nobody reads comes first.</summary>
    private static byte[] Json()
    {
        var json = new StringBuilder($"{{\"note\":\"{new string('x', 100 * 1024)}\",\"packs\":[");
        for (var p = 0; p < 3; p++)
        {
            var blobs = string.Join(',', Enumerable.Range(0, 1500).Select(b =>
                $"{{\"id\":\"{IdOf($"{p}/{b}")}\",\"type\":\"{(b % 3 == 0 ? "tree" : "data")}\",\"offset\":{b * 1000},\"length\":{1000 + b}" +
                (b % 2 == 0 ? $",\"uncompressed_length\":{5000 + b}}}" : "}")));
            json.Append(p == 1 ? $"{{\"blobs\":[{blobs}],\"id\":\"{IdOf($"pack {p}")}\"}}" : $"{{\"id\":\"{IdOf($"pack {p}")}\",\"blobs\":[{blobs}]}}");
            if (p < 2) json.Append(',');
        }
        return Encoding.UTF8.GetBytes(json.Append("]}").ToString());
    }

    private static UnpackedFile Compressed(byte[] json, int keep = int.MaxValue)
    {
        var frame = Zstd.Compress(json);
        return new UnpackedFile(new FileHandle(FileKind.Index, "streamed"), new byte[] { 2 }.Concat(frame.Take(keep)).ToArray());
    }

    private static List<(Id Pack, PackedBlob Blob)> Entries(Action<Func<Id, int>, Action<PackedBlob>> read)
    {
        var packs = new List<Id>();
        var entries = new List<(Id, PackedBlob)>();
        read(id =>
        {
            packs.Add(id);
            return packs.Count - 1;
        }, b => entries.Add((packs[b.Pack], b)));
        return entries;
    }

    [Fact]
    public void Entries_read_as_the_file_is_decompressed_are_those_of_the_whole_json()
    {
        var json = Json();
        var streamed = Entries((pack, blob) => IndexEntries.Read(Compressed(json), pack, blob));
        var whole = Entries((pack, blob) => IndexEntries.Read(json, "index/whole", pack, blob));

        Assert.Equal(4500, streamed.Count);
        Assert.Equal(whole, streamed);
        var last = streamed[^1].Blob;
        Assert.Equal((IdOf("pack 2"), IdOf("2/1499"), BlobType.Data, 1_499_000u, 2499u, 0u),
            (streamed[^1].Pack, last.Id, last.Type, last.Offset, last.Length, last.UncompressedLength));
        Assert.Equal((IdOf("pack 1"), IdOf("1/0"), BlobType.Tree, 5000u), (streamed[1500].Pack, streamed[1500].Blob.Id, streamed[1500].Blob.Type, streamed[1500].Blob.UncompressedLength));
    }

    [Fact]
    public void A_compressed_file_cut_short_is_damage_naming_it()
    {
        var file = Compressed(Json(), keep: 20_000);
        var e = Assert.Throws<RepositoryException>(() => IndexEntries.Read(file, _ => 0, _ => { }));
        Assert.Equal(ErrorKind.Damaged, e.Kind);
        Assert.StartsWith("index/streamed is damaged", e.Message);
    }
}
