using Backups.Core;
using Backups.Core.Backends;
using Backups.Tests.Support;
using Xunit;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Tests.Packs;

/// <summary>Saving blobs through the repository: packs sealed at their size limit, blobs known once, nothing stored
/// before a flush and nothing at all after a discard; restic reads what was flushed.</summary>
public sealed class BlobSavingTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static byte[] Blob(int seed, int length)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static string[] Packs(string repository) =>
        Directory.Exists(Path.Combine(repository, "data"))
            ? Directory.GetFiles(Path.Combine(repository, "data"), "*", SearchOption.AllDirectories)
            : [];

    [Fact]
    public async Task Blobs_fill_packs_up_to_their_limit_and_each_is_stored_once()
    {
        var path = _dir.Combine("repo");
        await using (var repo = await Repo.InitAsync(new LocalBackend(path), Repositories.Password))
        {
            // 40 blobs of 1 MiB of random data (incompressible): more than two packs' worth.
            for (var i = 0; i < 40; i++)
            {
                var data = Blob(i, 1 << 20);
                var id = Id.Hash(data);
                Assert.NotNull(await repo.SaveBlobAsync(BlobType.Data, id, data));
                Assert.Null(await repo.SaveBlobAsync(BlobType.Data, id, data)); // known while on its way
            }
            await repo.FlushAsync();
            Assert.Null(await repo.SaveBlobAsync(BlobType.Data, Id.Hash(Blob(0, 1 << 20)), Blob(0, 1 << 20))); // known from the index
            for (var i = 0; i < 40; i++) Assert.Equal(Blob(i, 1 << 20), await repo.LoadBlobAsync(BlobType.Data, Id.Hash(Blob(i, 1 << 20))));
        }
        var packs = Packs(path);
        Assert.True(packs.Length >= 3, $"{packs.Length} packs");
        Assert.All(packs, p => Assert.True(new FileInfo(p).Length <= 16 << 20, $"{p} is {new FileInfo(p).Length} bytes"));
        var restic = new Restic(path, Repositories.Password);
        await restic.CheckAsync(readData: true);
        var listed = (await restic.RunOkAsync("list", "blobs")).StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(40, listed.Length);
    }

    [Fact]
    public async Task Blobs_not_flushed_are_discarded_and_leave_nothing_behind()
    {
        var path = _dir.Combine("repo");
        await using (var repo = await Repo.InitAsync(new LocalBackend(path), Repositories.Password))
        {
            // Less than a pack: none is finished before the discard.
            for (var i = 0; i < 8; i++)
            {
                var data = Blob(100 + i, 1 << 20);
                await repo.SaveBlobAsync(BlobType.Data, Id.Hash(data), data);
            }
            await repo.DiscardBlobsAsync();
        }
        Assert.Empty(Packs(path));
        Assert.Empty(Directory.GetFiles(Path.Combine(path, "index")));
        await new Restic(path, Repositories.Password).CheckAsync(readData: true);
    }
}
