using System.Text;
using System.Text.Json;
using Backups.Core.Archiving;
using Backups.Core.FileSystem;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Interop;

/// <summary>
/// What backup-agent writes, stock restic must check, list, dump and restore exactly. Written once, run on a
/// local directory and on S3 (s3rver over HTTPS).
/// </summary>
public abstract class OurWriterResticReaderTests
{
    private const int MiB = 1 << 20;
    protected abstract IRepositoryStore Store { get; }

    public static TheoryData<TestData.Kind, long> Streams => new()
    {
        { TestData.Kind.Random, 0 },
        { TestData.Kind.Random, 1 },
        { TestData.Kind.Random, 8 * MiB },
        { TestData.Kind.Random, 300 * MiB },
        { TestData.Kind.Text, 300 * MiB },
        { TestData.Kind.Zeros, 100 * MiB },
    };

    [Theory]
    [MemberData(nameof(Streams))]
    public async Task Stdin_stream_is_checked_listed_and_dumped_by_restic(TestData.Kind kind, long length)
    {
        var repo = Store.New();
        await repo.Agent.RunOkAsync("init");
        var name = $"{kind.ToString().ToLowerInvariant()}-{length}.bin";
        using (var input = new TestData(kind, length))
            (await repo.Agent.RunAsync(["backup", "--stdin", "--stdin-filename", name, "--tag", "nightly,db", "--host", "box-1"], input))
                .EnsureSuccess("backup --stdin");

        await repo.Restic.CheckAsync(readData: true);

        var snapshots = await repo.Restic.JsonAsync("snapshots");
        var s = Assert.Single(snapshots.EnumerateArray());
        Assert.Equal(["/" + name], s.GetProperty("paths").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(["db", "nightly"], s.GetProperty("tags").EnumerateArray().Select(p => p.GetString()!).Order());
        Assert.Equal("box-1", s.GetProperty("hostname").GetString());

        using var dumped = new HashingStream();
        (await repo.Restic.RunAsync(["dump", "latest", "/" + name], stdout: dumped)).EnsureSuccess("restic dump");
        Assert.Equal(length, dumped.Written);
        Assert.Equal(TestData.Sha256(kind, length), dumped.Sha256());
    }

    [Fact]
    public async Task Directory_tree_is_restored_by_restic_with_contents_and_metadata()
    {
        using var dir = new TempDir();
        var src = dir.Combine("src");
        TreeFixture.Create(src);
        var repo = Store.New();
        await repo.Agent.RunOkAsync("init");
        await repo.Agent.RunOkAsync("backup", src, "--tag", "files", "--host", "box-2", "--exclude", "*.tmp");

        await repo.Restic.CheckAsync(readData: true);
        var s = Assert.Single((await repo.Restic.JsonAsync("snapshots")).EnumerateArray());
        Assert.Equal([src], s.GetProperty("paths").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal("box-2", s.GetProperty("hostname").GetString());
        Assert.Equal("files", s.GetProperty("tags")[0].GetString());

        var byRestic = dir.Combine("restic-restore");
        await repo.Restic.RunOkAsync("restore", "latest", "--target", byRestic);
        TreeFixture.AssertSame(src, byRestic + src);

        var byUs = dir.Combine("our-restore");
        await repo.Agent.RunOkAsync("restore", "latest", "--target", byUs);
        TreeFixture.AssertSame(src, byUs + src);
    }
}

public sealed class LocalOurWriterResticReaderTests : OurWriterResticReaderTests, IDisposable
{
    private readonly TempDir _dir = new();
    protected override IRepositoryStore Store { get; }
    public LocalOurWriterResticReaderTests() => Store = new LocalStore(_dir);
    public void Dispose() => _dir.Dispose();
}

[Collection("s3")]
public sealed class S3OurWriterResticReaderTests(S3rverFixture s3) : OurWriterResticReaderTests
{
    protected override IRepositoryStore Store { get; } = new S3Store(s3);
}

/// <summary>A directory with the cases that trip archivers up, and a deep comparison of two copies.</summary>
public static class TreeFixture
{
    public static void Create(string root)
    {
        Directory.CreateDirectory(Path.Combine(root, "a", "b", "c", "d"));
        Directory.CreateDirectory(Path.Combine(root, "empty-dir"));
        Directory.CreateDirectory(Path.Combine(root, "ünïcødé ñame", "日本語"));
        File.WriteAllText(Path.Combine(root, "a", "hello.txt"), "hello\n");
        File.WriteAllBytes(Path.Combine(root, "a", "b", "empty-file"), []);
        File.WriteAllText(Path.Combine(root, "ünïcødé ñame", "日本語", "файл.txt"), "non-ascii names\n");
        using (var big = File.Create(Path.Combine(root, "a", "b", "c", "d", "big.bin")))
            new TestData(TestData.Kind.Random, 3 * 1024 * 1024 + 17, seed: 7).CopyTo(big);
        File.WriteAllText(Path.Combine(root, "a", "skip.tmp"), "excluded");
        File.CreateSymbolicLink(Path.Combine(root, "a", "link-to-hello"), "hello.txt");
        File.CreateSymbolicLink(Path.Combine(root, "dangling"), "/nowhere/at/all");
        File.SetUnixFileMode(Path.Combine(root, "a", "hello.txt"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        File.SetUnixFileMode(Path.Combine(root, "a", "b", "empty-file"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherExecute);
        File.SetUnixFileMode(Path.Combine(root, "empty-dir"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
        var old = new DateTime(2019, 5, 6, 7, 8, 9, DateTimeKind.Utc).AddTicks(1234567);
        File.SetLastWriteTimeUtc(Path.Combine(root, "a", "hello.txt"), old);
        File.SetLastWriteTimeUtc(Path.Combine(root, "ünïcødé ñame", "日本語", "файл.txt"), old.AddDays(-300));
        Directory.SetLastWriteTimeUtc(Path.Combine(root, "empty-dir"), old.AddDays(-1));
        // Nanoseconds beyond .NET's 100 ns ticks, as ext4 keeps them.
        using var touch = System.Diagnostics.Process.Start("touch", ["-d", "2021-03-04 05:06:07.123456789", Path.Combine(root, "a", "b", "c", "d", "big.bin")])!;
        touch.WaitForExit();
        Assert.Equal(0, touch.ExitCode);
    }

    /// <summary>Same names, types, contents, link targets, permissions and modification times, recursively
    /// (minus what the backup excluded).</summary>
    public static void AssertSame(string expected, string actual)
    {
        static IEnumerable<string> Entries(string root) =>
            Directory.EnumerateFileSystemEntries(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
                .Select(p => Path.GetRelativePath(root, p)).Where(p => !p.EndsWith(".tmp")).Order(StringComparer.Ordinal);

        Assert.Equal(Entries(expected), Entries(actual));
        foreach (var rel in Entries(expected))
        {
            var e = new FileInfo(Path.Combine(expected, rel));
            var a = new FileInfo(Path.Combine(actual, rel));
            Assert.Equal(e.LinkTarget, a.LinkTarget);
            if (e.LinkTarget != null) continue;
            Assert.True(e.Attributes.HasFlag(FileAttributes.Directory) == a.Attributes.HasFlag(FileAttributes.Directory), rel);
            Assert.Equal(File.GetUnixFileMode(e.FullName), File.GetUnixFileMode(a.FullName));
            var (es, as_) = (FileStat.Lstat(e.FullName), FileStat.Lstat(a.FullName));
            Assert.True((es.MTimeSec, es.MTimeNsec) == (as_.MTimeSec, as_.MTimeNsec), $"{rel}: mtime {es.MTimeSec}.{es.MTimeNsec:D9} restored as {as_.MTimeSec}.{as_.MTimeNsec:D9}");
            if (!e.Attributes.HasFlag(FileAttributes.Directory))
                Assert.True(File.ReadAllBytes(e.FullName).AsSpan().SequenceEqual(File.ReadAllBytes(a.FullName)), $"{rel} differs");
        }
    }
}
