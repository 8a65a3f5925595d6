using System.Text.Json;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Interop;

/// <summary>Repositories written by stock restic 0.14 are listed, dumped and restored by backup-agent exactly.</summary>
public sealed class ResticWriterOurReaderTests : IDisposable
{
    private const int MiB = 1 << 20;
    private readonly TempDir _dir = new();
    private readonly LocalStore _store;

    public ResticWriterOurReaderTests() => _store = new LocalStore(_dir);

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string, string[]> Layouts => new()
    {
        { "v2 compressed", ["init"] },
        { "v2 uncompressed", ["init"] },
        { "v1", ["init", "--repository-version", "1"] },
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public async Task Restic_repository_is_listed_dumped_and_restored(string layout, string[] init)
    {
        var repo = _store.New();
        await repo.Restic.RunOkAsync(init);
        string[] compression = layout == "v2 uncompressed" ? ["--compression", "off"] : [];
        await WriteWithResticAsync(repo, compression);
        await AssertReadableByUsAsync(repo, repo.Agent);
    }

    [Fact]
    public async Task Repository_with_two_keys_opens_with_either_password()
    {
        var repo = _store.New();
        await repo.Restic.RunOkAsync("init");
        var second = _dir.Combine("second-password");
        await File.WriteAllTextAsync(second, "another password\n");
        await repo.Restic.RunOkAsync("key", "add", "--new-password-file", second);
        await WriteWithResticAsync(repo, []);

        await AssertReadableByUsAsync(repo, repo.Agent);
        // The second key through --password-file, with the trailing newline restic also strips.
        var other = new Agent(repo.Repository, "not used", env: new Dictionary<string, string> { ["RESTIC_PASSWORD"] = "wrong" });
        var listed = await other.RunAsync(["--password-file", second, "snapshots", "--json"]);
        listed.EnsureSuccess("snapshots with the second key");
        Assert.Equal(2, JsonDocument.Parse(listed.Stdout).RootElement.GetArrayLength());
    }

    private async Task WriteWithResticAsync(RepositoryPair repo, string[] compression)
    {
        using (var data = new TestData(TestData.Kind.Text, 20 * MiB, seed: 3))
            (await repo.Restic.RunAsync([.. compression, "backup", "--stdin", "--stdin-filename", "dump.sql", "--tag", "db"], data))
                .EnsureSuccess("restic backup --stdin");
        var src = _dir.Combine("src-" + Path.GetFileName(repo.Repository));
        TreeFixture.Create(src);
        await repo.Restic.RunOkAsync([.. compression, "backup", src, "--exclude", "*.tmp", "--host", "writer"]);
    }

    private async Task AssertReadableByUsAsync(RepositoryPair repo, Agent agent)
    {
        var theirs = (await repo.Restic.JsonAsync("snapshots")).EnumerateArray().Select(s => s.GetProperty("id").GetString()).Order().ToList();
        var ours = JsonDocument.Parse((await agent.RunOkAsync("snapshots", "--json")).Stdout).RootElement
            .EnumerateArray().Select(s => s.GetProperty("id").GetString()).Order().ToList();
        Assert.Equal(2, theirs.Count);
        Assert.Equal(theirs, ours);

        using var dumped = new HashingStream();
        (await agent.RunAsync(["dump", "latest", "/dump.sql", "--tag", "db"], stdout: dumped)).EnsureSuccess("dump");
        Assert.Equal(TestData.Sha256(TestData.Kind.Text, 20 * MiB, seed: 3), dumped.Sha256());

        var src = _dir.Combine("src-" + Path.GetFileName(repo.Repository));
        var listing = (await agent.RunOkAsync("ls", "latest")).StdoutText;
        Assert.Contains(src + "/a/b/c/d/big.bin", listing);

        var target = _dir.Combine("restore-" + Path.GetFileName(repo.Repository));
        await agent.RunOkAsync("restore", "latest", "--target", target);
        TreeFixture.AssertSame(src, target + src);
    }
}
