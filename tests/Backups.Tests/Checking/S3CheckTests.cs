using System.Text.Json;
using Backups.Tests.Errors;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Checking;

/// <summary>`check --read-data` of a repository restic wrote to S3 (s3rver over HTTPS), where the Lambda verifies.</summary>
[Collection("s3")]
public sealed class S3CheckTests(S3rverFixture s3)
{
    [Fact]
    public async Task Reads_every_pack_over_S3_and_names_a_damaged_one()
    {
        var repo = new S3Store(s3).New();
        await repo.Restic.RunOkAsync("init");
        using (var data = new TestData(TestData.Kind.Random, 3 << 20, seed: 21))
            (await repo.Restic.RunAsync(["backup", "--stdin", "--stdin-filename", "data.bin"], data)).EnsureSuccess("restic backup");

        var healthy = JsonDocument.Parse((await repo.Agent.RunOkAsync("--json", "check", "--read-data")).Stdout).RootElement;
        Assert.Equal(0, healthy.GetProperty("errors").GetInt32());
        Assert.True(healthy.GetProperty("packs").GetInt32() >= 2);
        Assert.Equal(healthy.GetProperty("packs").GetInt32(), healthy.GetProperty("packs_read").GetInt32());

        var dataDir = Path.Combine(RepositoryFiles.S3Directory(s3, repo.Repository), "data");
        var pack = Directory.EnumerateFiles(dataDir, "*._S3rver_object", SearchOption.AllDirectories).MaxBy(f => new FileInfo(f).Length)!;
        RepositoryFiles.FlipByte(pack, 1000);
        var name = Path.GetFileName(pack).Split('.')[0];
        Failure.AssertOneLine(await repo.Agent.RunAsync(["check", "--read-data"]), Failure.Damaged, $"data/{name[..2]}/{name}");
    }
}
