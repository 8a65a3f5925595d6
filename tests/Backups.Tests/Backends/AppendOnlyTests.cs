using System.Text.Json;
using Backups.Core.Backends;
using Backups.Core.Repositories;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Backends;

/// <summary>
/// The append-only box against s3rver behind a proxy that adds S3's conditional writes and Object Lock
/// retention: the agent never overwrites (a taken name with other bytes is refused and reported; the same bytes
/// are our own earlier attempt), and prune leaves the packs the store keeps and says so, with a repository that
/// restic still checks.
/// </summary>
[Collection("s3")]
public sealed class AppendOnlyTests(S3rverFixture s3)
{
    private const string Password = "append-only-password";

    [Fact]
    public async Task A_taken_name_accepts_the_same_bytes_and_refuses_other_bytes()
    {
        await using var proxy = new AppendOnlyS3Proxy(s3);
        var repository = s3.NewRepository();
        var location = (S3RepositoryLocation)RepositoryLocation.Parse(repository);
        await using var backend = RepositoryLocation.Open(proxy.Through(repository), s3.Options());
        foreach (var kind in new[] { FileKind.Pack, FileKind.Snapshot })
        {
            var file = new FileHandle(kind, BackendContract.NewId());
            var data = BackendContract.RandomBytes(70_000);
            await backend.SaveAsync(file, data);
            await backend.SaveAsync(file, data);
            foreach (var other in new[] { BackendContract.RandomBytes(70_000), BackendContract.RandomBytes(10) })
            {
                var e = await Assert.ThrowsAsync<RepositoryException>(() => backend.SaveAsync(file, other));
                Assert.Equal(ErrorKind.OverwriteRefused, e.Kind);
                Assert.Contains(file.ToString(), e.Message);
            }
            Assert.Equal(data, s3.StoredObject(location.Bucket, $"{location.Prefix}/{FileLayout.RelativePath(file)}"));
        }
        Assert.Equal(6, proxy.PreconditionsFailed);
        // Object Lock buckets refuse a PUT without Content-MD5 or a checksum; CRC-32 of "123456789" is 0xCBF43926,
        // sent big-endian in base64.
        await backend.SaveAsync(new FileHandle(FileKind.Index, BackendContract.NewId()), "123456789"u8.ToArray());
        Assert.Equal("y/Q5Jg==", proxy.Puts.Last().Crc32);
        Assert.All(proxy.Puts, p =>
        {
            Assert.Equal("*", p.IfNoneMatch);
            Assert.False(string.IsNullOrEmpty(p.Crc32));
        });
    }

    [Theory]
    [InlineData("data/")]
    [InlineData("snapshots/")]
    public async Task The_agent_refuses_to_overwrite_an_object_that_holds_other_bytes_and_says_so(string folder)
    {
        await using var proxy = new AppendOnlyS3Proxy(s3);
        var repository = s3.NewRepository();
        var agent = new Agent(proxy.Through(repository), Password, env: new Dictionary<string, string>(s3.Env));
        await agent.RunOkAsync("init");

        // Someone else's bytes appear under the very name the agent is about to create.
        var planted = BackendContract.RandomBytes(1000);
        string? squatted = null;
        await using var direct = RepositoryLocation.Open(repository, s3.Options());
        proxy.BeforePut = async path =>
        {
            if (squatted != null || !path.Contains($"/{folder}")) return;
            squatted = path;
            var name = path[(path.LastIndexOf('/') + 1)..];
            await direct.SaveAsync(new FileHandle(folder == "data/" ? FileKind.Pack : FileKind.Snapshot, name), planted);
        };
        var run = await agent.RunAsync(["backup", "--stdin", "--stdin-filename", "data.bin"], stdin: new MemoryStream(BackendContract.RandomBytes(300_000)));

        Assert.Equal(20, run.ExitCode);
        Assert.NotNull(squatted);
        Assert.Contains("refused to overwrite", run.Stderr);
        Assert.Contains(squatted[(squatted.LastIndexOf('/') + 1)..], run.Stderr);
        var location = (S3RepositoryLocation)RepositoryLocation.Parse(repository);
        Assert.Equal(planted, s3.StoredObject(location.Bucket, squatted[(location.Bucket.Length + 1)..]));
        if (folder == "data/")
            Assert.Empty(await BackendContract.ToListAsync(direct.ListAsync(FileKind.Snapshot)));
    }

    [Fact]
    public async Task A_put_whose_answer_was_lost_is_retried_into_a_412_and_counts_as_saved()
    {
        await using var proxy = new AppendOnlyS3Proxy(s3);
        var repository = s3.NewRepository();
        var agent = new Agent(proxy.Through(repository), Password, env: new Dictionary<string, string>(s3.Env));
        await agent.RunOkAsync("init");
        var lost = 0;
        proxy.LoseAnswer = path => !path.EndsWith("/config") && !path.Contains("/locks/") && Interlocked.Exchange(ref lost, 1) == 0;

        var data = BackendContract.RandomBytes(300_000);
        (await agent.RunAsync(["backup", "--stdin", "--stdin-filename", "data.bin"], stdin: new MemoryStream(data))).EnsureSuccess("backup-agent backup");

        Assert.Equal(1, lost);
        Assert.True(proxy.PreconditionsFailed >= 1);
        var restic = new Restic(repository, Password, s3.CaCertPath, new Dictionary<string, string>(s3.Env));
        await restic.CheckAsync(readData: true);
        var dumped = new MemoryStream();
        (await restic.RunAsync(["dump", "latest", "/data.bin"], stdout: dumped)).EnsureSuccess("restic dump");
        Assert.Equal(data, dumped.ToArray());
    }

    /// <summary>
    /// Three prunes: with every pack and index file under retention (old index files stay, so the packs they name
    /// stay too), with only packs under retention (they stay, unreferenced), and after retention ended (they go).
    /// restic checks the repository and dumps the kept snapshot after each.
    /// </summary>
    [Fact]
    public async Task Prune_leaves_packs_under_retention_and_reports_them()
    {
        await using var proxy = new AppendOnlyS3Proxy(s3);
        var repository = s3.NewRepository();
        var location = (S3RepositoryLocation)RepositoryLocation.Parse(repository);
        var agent = new Agent(proxy.Through(repository), Password, env: new Dictionary<string, string>(s3.Env));
        var restic = new Restic(repository, Password, s3.CaCertPath, new Dictionary<string, string>(s3.Env));
        await agent.RunOkAsync("init");
        var first = BackendContract.RandomBytes(400_000);
        var second = BackendContract.RandomBytes(400_000);
        (await agent.RunAsync(["backup", "--stdin", "--stdin-filename", "first.bin"], stdin: new MemoryStream(first))).EnsureSuccess("backup");
        (await agent.RunAsync(["backup", "--stdin", "--stdin-filename", "second.bin"], stdin: new MemoryStream(second))).EnsureSuccess("backup");
        await using var direct = RepositoryLocation.Open(repository, s3.Options());
        var packsBefore = (await BackendContract.ToListAsync(direct.ListAsync(FileKind.Pack))).Select(p => p.Name).ToHashSet();
        void RetainAll(FileKind kind, IEnumerable<string> names)
        {
            foreach (var name in names)
                proxy.Retain($"{location.Bucket}/{location.Prefix}/{FileLayout.RelativePath(new FileHandle(kind, name))}");
        }
        RetainAll(FileKind.Pack, packsBefore);
        RetainAll(FileKind.Index, (await BackendContract.ToListAsync(direct.ListAsync(FileKind.Index))).Select(i => i.Name));
        var firstSnapshot = (await restic.JsonAsync("snapshots", "--path", "/first.bin"))[0].GetProperty("id").GetString()!;
        await agent.RunOkAsync("forget", firstSnapshot);

        var everything = await PruneAsync(agent);
        var retained = Names(everything, "retained_packs");
        Assert.NotEmpty(retained);
        Assert.NotEmpty(Names(everything, "retained_index_files"));
        Assert.Equal(0, everything.GetProperty("packs_deleted").GetInt32());
        Assert.Equal(retained.Count, everything.GetProperty("packs_retained").GetInt32());
        Assert.Subset(packsBefore, retained.ToHashSet());
        await AssertIntactAsync(restic, direct, packsBefore, second);

        proxy.ReleaseAll();
        RetainAll(FileKind.Pack, packsBefore);
        var packsOnly = await PruneAsync(agent);
        Assert.Equal(retained, Names(packsOnly, "retained_packs"));
        Assert.Empty(Names(packsOnly, "retained_index_files"));
        Assert.Equal(0, packsOnly.GetProperty("packs_deleted").GetInt32());
        await AssertIntactAsync(restic, direct, packsBefore, second);

        proxy.ReleaseAll();
        var released = await PruneAsync(agent);
        Assert.Empty(Names(released, "retained_packs"));
        Assert.Equal(retained.Count, released.GetProperty("packs_deleted").GetInt32());
        var packsAfter = (await BackendContract.ToListAsync(direct.ListAsync(FileKind.Pack))).Select(p => p.Name).ToHashSet();
        Assert.Empty(packsAfter.Intersect(retained));
        await AssertIntactAsync(restic, direct, packsAfter, second);
        var check = await restic.RunOkAsync("check");
        Assert.DoesNotContain("additional files", check.StdoutText + check.Stderr);
        Assert.True(proxy.DeletesRefused > 0);
    }

    private static async Task<JsonElement> PruneAsync(Agent agent)
    {
        var run = (await agent.RunAsync(["prune", "--json"])).EnsureSuccess("backup-agent prune");
        return JsonDocument.Parse(run.StdoutText.Trim().Split('\n')[^1]).RootElement.Clone();
    }

    private static List<string> Names(JsonElement stats, string property) =>
        [.. stats.GetProperty(property).EnumerateArray().Select(e => e.GetString()!)];

    /// <summary>Every pack still there, restic's check passes and the kept snapshot dumps byte for byte.</summary>
    private static async Task AssertIntactAsync(Restic restic, IBackend direct, IReadOnlySet<string> packs, byte[] kept)
    {
        var now = (await BackendContract.ToListAsync(direct.ListAsync(FileKind.Pack))).Select(p => p.Name).ToHashSet();
        Assert.Subset(now, packs.ToHashSet());
        await restic.CheckAsync(readData: true);
        var dumped = new MemoryStream();
        (await restic.RunAsync(["dump", "latest", "/second.bin"], stdout: dumped)).EnsureSuccess("restic dump");
        Assert.Equal(kept, dumped.ToArray());
    }
}
