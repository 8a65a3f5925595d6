using System.Security.Cryptography;
using Backups.Core.Backends;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Backends;

/// <summary>Stock restic and our S3 backend share repositories on s3rver in both directions.</summary>
[Collection("s3")]
public sealed class ResticS3InteropTests(S3rverFixture s3)
{
    private const string Password = "interop-password";
    private static readonly FileKind[] IdNamedKinds = [FileKind.Key, FileKind.Snapshot, FileKind.Index, FileKind.Pack];

    [Fact]
    public async Task We_read_what_restic_wrote()
    {
        var repository = s3.NewRepository();
        var restic = new Restic(repository, Password, s3.CaCertPath, new Dictionary<string, string>(s3.Env));
        await restic.RunOkAsync("init");
        await BackupAsync(restic, BackendContract.RandomBytes(3 << 20));

        var location = (S3RepositoryLocation)RepositoryLocation.Parse(repository);
        await using var backend = RepositoryLocation.Open(repository, s3.Options());
        Assert.Equal(s3.StoredObject(location.Bucket, $"{location.Prefix}/config"), await backend.LoadAsync(FileHandle.Config));
        Assert.Single(await BackendContract.ToListAsync(backend.ListAsync(FileKind.Key)));
        Assert.Single(await BackendContract.ToListAsync(backend.ListAsync(FileKind.Snapshot)));
        Assert.NotEmpty(await BackendContract.ToListAsync(backend.ListAsync(FileKind.Pack)));
        // restic names every file but config by the SHA-256 of its contents: a strong check of list and load.
        foreach (var kind in IdNamedKinds)
        {
            foreach (var (name, size) in await BackendContract.ToListAsync(backend.ListAsync(kind)))
            {
                var bytes = await backend.LoadAsync(new FileHandle(kind, name));
                Assert.Equal(size, bytes.Length);
                Assert.Equal(name, Convert.ToHexStringLower(SHA256.HashData(bytes)));
            }
        }
    }

    [Fact]
    public async Task Restic_reads_what_we_wrote()
    {
        using var dir = new TempDir();
        var local = new Restic(dir.Combine("repo"), Password);
        await local.RunOkAsync("init");
        var data = BackendContract.RandomBytes(3 << 20);
        await BackupAsync(local, data);

        var repository = s3.NewRepository();
        await using (var source = new LocalBackend(dir.Combine("repo")))
        await using (var target = RepositoryLocation.Open(repository, s3.Options()))
        {
            await target.CreateAsync();
            await target.SaveAsync(FileHandle.Config, await source.LoadAsync(FileHandle.Config));
            foreach (var kind in IdNamedKinds)
                await foreach (var (name, _) in source.ListAsync(kind))
                    await target.SaveAsync(new FileHandle(kind, name), await source.LoadAsync(new FileHandle(kind, name)));
        }

        var restic = new Restic(repository, Password, s3.CaCertPath, new Dictionary<string, string>(s3.Env));
        await restic.CheckAsync(readData: true);
        var dumped = new MemoryStream();
        (await restic.RunAsync(["dump", "latest", "/data.bin"], stdout: dumped)).EnsureSuccess("restic dump");
        Assert.Equal(data, dumped.ToArray());
    }

    private static async Task BackupAsync(Restic restic, byte[] data) =>
        (await restic.RunAsync(["backup", "--stdin", "--stdin-filename", "data.bin"], stdin: new MemoryStream(data)))
            .EnsureSuccess("restic backup --stdin");
}
