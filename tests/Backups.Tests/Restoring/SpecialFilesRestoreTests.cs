using Backups.Core.FileSystem;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Restoring;

/// <summary>FIFOs and hard links come back as restic restores them: a FIFO as a FIFO, hard links as one inode.</summary>
public sealed class SpecialFilesRestoreTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly LocalStore _store;

    public SpecialFilesRestoreTests() => _store = new LocalStore(_dir);

    public void Dispose() => _dir.Dispose();

    private async Task<string> CreateSourceAsync()
    {
        var src = _dir.Combine("src");
        Directory.CreateDirectory(Path.Combine(src, "sub"));
        File.WriteAllText(Path.Combine(src, "first"), "shared content");
        (await Processes.RunAsync("ln", [Path.Combine(src, "first"), Path.Combine(src, "sub", "second")])).EnsureSuccess("ln");
        (await Processes.RunAsync("ln", [Path.Combine(src, "first"), Path.Combine(src, "third")])).EnsureSuccess("ln");
        File.WriteAllText(Path.Combine(src, "single"), "alone");
        (await Processes.RunAsync("mkfifo", ["-m", "0640", Path.Combine(src, "pipe")])).EnsureSuccess("mkfifo");
        return src;
    }

    [Theory]
    [InlineData("us", "us")]
    [InlineData("us", "restic")]
    [InlineData("restic", "us")]
    public async Task Fifos_and_hard_links_are_restored(string writer, string reader)
    {
        var src = await CreateSourceAsync();
        var repo = _store.New();
        if (writer == "restic")
        {
            await repo.Restic.RunOkAsync("init");
            await repo.Restic.RunOkAsync("backup", src);
        }
        else
        {
            await repo.Agent.RunOkAsync("init");
            await repo.Agent.RunOkAsync("backup", src);
        }

        var target = _dir.Combine("target");
        if (reader == "restic") await repo.Restic.RunOkAsync("restore", "latest", "--target", target);
        else await repo.Agent.RunOkAsync("restore", "latest", "--target", target);
        var restored = target + src;

        await FileTrees.AssertSameAsync(src, restored, skip: "pipe");
        var pipe = FileStat.Lstat(Path.Combine(restored, "pipe"));
        Assert.Equal("fifo", pipe.NodeType);
        Assert.Equal(FileStat.Lstat(Path.Combine(src, "pipe")).GoMode, pipe.GoMode);
        var first = FileStat.Lstat(Path.Combine(restored, "first"));
        Assert.Equal(3u, first.Links);
        Assert.True(first.SameFile(FileStat.Lstat(Path.Combine(restored, "sub", "second"))));
        Assert.True(first.SameFile(FileStat.Lstat(Path.Combine(restored, "third"))));
        Assert.Equal(1u, FileStat.Lstat(Path.Combine(restored, "single")).Links);
    }
}
