using Backups.Core;
using Backups.Core.Backends;
using Backups.Core.Indexes;
using Backups.Core.Packs;
using Backups.Core.Repositories;
using Backups.Tests.Support;
using Xunit;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Tests.Packs;

/// <summary>How the repository's packing seals packs, in process: one blob type per pack (restic keeps data and
/// trees apart), a pack finished when the next blob would take it past 16 MiB, a blob bigger than that in a pack of
/// its own, and an index file started every 50,000 blobs; restic checks every repository written here.</summary>
public sealed class PackLimitsTests : IDisposable
{
    private const int MiB = 1 << 20;
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static byte[] Random(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>Every pack the index files name, with its blobs, and how many index files there are.</summary>
    private static async Task<(List<IndexPack> Packs, int IndexFiles)> IndexedAsync(Repo repo)
    {
        var packs = new List<IndexPack>();
        var files = 0;
        await foreach (var (name, _) in repo.Backend.ListAsync(FileKind.Index))
        {
            files++;
            packs.AddRange((await repo.LoadFileAsync(RepositoryFiles.Index, name)).Packs);
        }
        return (packs, files);
    }

    private static async Task<long> PackSizeAsync(Repo repo, Id pack) =>
        (await repo.Backend.StatAsync(new FileHandle(FileKind.Pack, pack.ToString())))!.Value;

    [Fact]
    public async Task Data_and_tree_blobs_saved_interleaved_go_to_packs_of_their_own_type_each_filled_to_the_limit()
    {
        var path = _dir.Combine("repo");
        var random = new Random(1);
        await using (var repo = await Repo.InitAsync(new LocalBackend(path), Repositories.Password))
        {
            // Random bytes do not compress: each blob is stored at 1 MiB plus its MAC and nonce.
            for (var i = 0; i < 40; i++)
            {
                var type = i % 2 == 0 ? BlobType.Data : BlobType.Tree;
                var blob = Random(random, MiB);
                Assert.NotNull(await repo.SaveBlobAsync(type, Id.Hash(blob), blob));
            }
            await repo.FlushAsync();

            var (packs, _) = await IndexedAsync(repo);
            Assert.Equal(40, packs.Sum(p => p.Blobs.Count));
            foreach (var type in new[] { "data", "tree" })
            {
                var ofType = packs.Where(p => p.Blobs.Any(b => b.Type == type)).ToList();
                Assert.All(ofType, p => Assert.All(p.Blobs, b => Assert.Equal(type, b.Type)));
                Assert.Equal(20, ofType.Sum(p => p.Blobs.Count));
                var sizes = new List<long>();
                foreach (var p in ofType) sizes.Add(await PackSizeAsync(repo, p.Id));
                Assert.All(sizes, s => Assert.True(s <= Packer.PackSize, $"a {type} pack of {s} bytes"));
                // Only the last pack of a type may be sealed with room for another blob: the flush sealed it.
                Assert.True(sizes.Count(s => s < Packer.PackSize - MiB - 4096) <= 1, $"{type} packs of {string.Join(", ", sizes)} bytes");
                Assert.True(ofType.Count >= 2, $"{ofType.Count} {type} packs for 20 MiB");
            }
        }
        await new Restic(path, Repositories.Password).CheckAsync(readData: true);
    }

    [Fact]
    public async Task A_blob_bigger_than_a_pack_is_stored_in_a_pack_of_its_own()
    {
        var path = _dir.Combine("repo");
        var random = new Random(2);
        var big = Random(random, 20 * MiB);
        byte[][] small = [Random(random, 1000), Random(random, 1000)];
        await using (var repo = await Repo.InitAsync(new LocalBackend(path), Repositories.Password))
        {
            await repo.SaveBlobAsync(BlobType.Tree, Id.Hash(small[0]), small[0]);
            await repo.SaveBlobAsync(BlobType.Tree, Id.Hash(big), big);
            await repo.SaveBlobAsync(BlobType.Tree, Id.Hash(small[1]), small[1]);
            await repo.FlushAsync();

            var (packs, _) = await IndexedAsync(repo);
            var alone = Assert.Single(packs, p => p.Blobs.Any(b => b.Id == Id.Hash(big)));
            Assert.Single(alone.Blobs);
            Assert.True(await PackSizeAsync(repo, alone.Id) > 20 * MiB);
            Assert.Equal(3, packs.Count);
            Assert.Equal(big, await repo.LoadBlobAsync(BlobType.Tree, Id.Hash(big)));
        }
        await new Restic(path, Repositories.Password).CheckAsync(readData: true);
    }

    [Fact]
    public async Task An_index_file_is_written_once_stored_packs_hold_50000_blobs_and_every_blob_is_indexed_once()
    {
        var path = _dir.Combine("repo");
        var random = new Random(3);
        const int count = 120_000;
        var ids = new HashSet<Id>();
        await using (var repo = await Repo.InitAsync(new LocalBackend(path), Repositories.Password))
        {
            // 400 bytes each: about 38,000 blobs to a pack, so the second stored pack passes 50,000 unindexed blobs.
            var blob = new byte[400];
            for (var i = 0; i < count; i++)
            {
                random.NextBytes(blob);
                var id = Id.Hash(blob);
                Assert.True(ids.Add(id));
                await repo.SaveBlobAsync(BlobType.Data, id, blob);
            }
            await repo.FlushAsync();

            var (packs, files) = await IndexedAsync(repo);
            Assert.True(files >= 2, $"{files} index files for {packs.Count} packs of {count} blobs");
            var indexed = packs.SelectMany(p => p.Blobs).Select(b => b.Id).ToList();
            Assert.Equal(count, indexed.Count);
            Assert.True(ids.SetEquals(indexed));
        }
        await new Restic(path, Repositories.Password).CheckAsync(readData: true);
    }
}
