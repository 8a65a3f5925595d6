using Backups.Core.Backends;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Backends;

/// <summary>
/// The cold tier's contract with the bucket's lifecycle rules: every data pack carries the blob-type tag from its
/// upload on (read back with GetObjectTagging from s3rver, behind the proxy that implements PutObject's
/// x-amz-tagging), tree packs and every other file carry none, and stock restic still reads the whole repository.
/// Which pack holds which blobs is restic's answer (its `cat index`), not ours.
/// </summary>
[Collection("s3")]
public sealed class ColdTierTagTests(S3rverFixture s3)
{
    private const string Password = "cold-tier-password";

    [Fact]
    public async Task Data_packs_are_tagged_at_upload_and_tree_packs_and_metadata_are_not_also_after_a_prune_repacks()
    {
        await using var proxy = new AppendOnlyS3Proxy(s3);
        var repository = s3.NewRepository();
        var agent = new Agent(proxy.Through(repository), Password, env: new Dictionary<string, string>(s3.Env));
        var restic = new Restic(repository, Password, s3.CaCertPath, new Dictionary<string, string>(s3.Env));
        using var dir = new TempDir();
        for (var i = 0; i < 6; i++)
        {
            Directory.CreateDirectory(dir.Combine($"d{i}"));
            File.WriteAllBytes(dir.Combine($"d{i}", "file.bin"), BackendContract.RandomBytes(200_000 + i));
        }
        await agent.RunOkAsync("init");
        await agent.RunOkAsync("backup", dir.Path);
        (await agent.RunAsync(["backup", "--stdin", "--stdin-filename", "dump.bin"], stdin: new MemoryStream(BackendContract.RandomBytes(3_000_000))))
            .EnsureSuccess("backup --stdin");
        await AssertTaggedAsync(proxy, restic, repository);

        // Prune's repack writes new packs the same way: forget the first snapshot and repack everything partly used.
        var first = (await restic.JsonAsync("snapshots", "--path", dir.Path))[0].GetProperty("id").GetString()!;
        await agent.RunOkAsync("forget", first);
        await agent.RunOkAsync("prune", "--max-unused", "0");
        await AssertTaggedAsync(proxy, restic, repository);
    }

    private async Task AssertTaggedAsync(AppendOnlyS3Proxy proxy, Restic restic, string repository)
    {
        var location = (S3RepositoryLocation)RepositoryLocation.Parse(repository);
        var packTypes = new Dictionary<string, HashSet<string>>();
        foreach (var index in (await restic.RunOkAsync("list", "index")).StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var json = await restic.JsonAsync("cat", "index", index.Trim());
            foreach (var pack in json.GetProperty("packs").EnumerateArray())
                packTypes[pack.GetProperty("id").GetString()!] =
                    [.. pack.GetProperty("blobs").EnumerateArray().Select(b => b.GetProperty("type").GetString()!)];
        }
        Assert.Contains(packTypes.Values, t => t.SetEquals(["data"]));
        Assert.Contains(packTypes.Values, t => t.SetEquals(["tree"]));

        async Task<Dictionary<string, string>> Tags(FileHandle file) =>
            await proxy.TagsAsync($"{location.Bucket}/{location.Prefix}/{FileLayout.RelativePath(file)}");

        await using var direct = RepositoryLocation.Open(repository, s3.Options());
        var packs = await BackendContract.ToListAsync(direct.ListAsync(FileKind.Pack));
        Assert.Equal(packTypes.Keys.Order(), packs.Select(p => p.Name).Order());
        foreach (var (name, _) in packs)
        {
            var tags = await Tags(new FileHandle(FileKind.Pack, name));
            if (packTypes[name].SetEquals(["data"]))
                Assert.Equal(new Dictionary<string, string> { [S3Backend.BlobTypeTagKey] = S3Backend.DataPackTagValue }, tags);
            else
                Assert.Empty(tags);
        }
        Assert.Empty(await Tags(FileHandle.Config));
        foreach (var kind in new[] { FileKind.Key, FileKind.Index, FileKind.Snapshot })
        {
            var files = await BackendContract.ToListAsync(direct.ListAsync(kind));
            Assert.NotEmpty(files);
            foreach (var (name, _) in files) Assert.Empty(await Tags(new FileHandle(kind, name)));
        }
        await restic.CheckAsync(readData: true);
    }
}
