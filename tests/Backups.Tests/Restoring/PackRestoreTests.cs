using Backups.Core;
using Backups.Core.Backends;
using Backups.Core.Restoring;
using Backups.Tests.Support;
using Xunit;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Tests.Restoring;

/// <summary>
/// The restore built around packs: selections as restic makes them, zero runs left as holes, a verified restore,
/// and a restore that stops midway leaving no file that claims to be complete.
/// </summary>
public sealed class PackRestoreTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly LocalStore _store;

    public PackRestoreTests() => _store = new LocalStore(_dir);

    public void Dispose() => _dir.Dispose();

    private string CreateSource()
    {
        var src = _dir.Combine("src");
        Directory.CreateDirectory(Path.Combine(src, "sub", "deep"));
        Directory.CreateDirectory(Path.Combine(src, "logs"));
        File.WriteAllText(Path.Combine(src, "a.txt"), "top text");
        File.WriteAllText(Path.Combine(src, "b.log"), "top log");
        File.WriteAllText(Path.Combine(src, "sub", "c.txt"), "sub text");
        File.WriteAllText(Path.Combine(src, "sub", "deep", "d.log"), "deep log");
        File.WriteAllText(Path.Combine(src, "sub", "deep", "e.bin"), "deep bin");
        File.WriteAllText(Path.Combine(src, "logs", "f.txt"), "logs text");
        return src;
    }

    [Theory]
    [InlineData("us")]
    [InlineData("restic")]
    public async Task Include_and_exclude_select_what_restic_selects(string writer)
    {
        var src = CreateSource();
        var repo = _store.New();
        var program = writer == "us" ? (Func<string[], Task>)(a => repo.Agent.RunOkAsync(a)) : a => repo.Restic.RunOkAsync(a);
        await program(["init"]);
        await program(["backup", src]);

        string[][] selections =
        [
            ["--include", "*.txt"],
            ["--include", "deep"],
            ["--include", $"{src}/sub/deep/e.bin"],
            ["--include", $"{src}/**/c.txt"],
            ["--exclude", "*.log"],
            ["--exclude", $"{src}/sub"],
            ["--exclude", "deep", "--exclude", "a.txt"],
        ];
        var i = 0;
        foreach (var selection in selections)
        {
            var ours = _dir.Combine($"ours{i}");
            var theirs = _dir.Combine($"theirs{i++}");
            await repo.Agent.RunOkAsync(["restore", "latest", "--target", ours, .. selection]);
            await repo.Restic.RunOkAsync(["restore", "latest", "--target", theirs, .. selection]);
            var expected = await FileTrees.ListAsync(theirs);
            Assert.True(expected.Count > 0, $"restic restored nothing for {string.Join(' ', selection)}");
            Assert.Equal(expected, await FileTrees.ListAsync(ours));
            await FileTrees.AssertSameAsync(theirs, ours);
        }
    }

    [Fact]
    public async Task Include_and_exclude_together_are_refused()
    {
        var repo = _store.New();
        await repo.Agent.RunOkAsync("init");
        var r = await repo.Agent.RunAsync(["restore", "latest", "--target", _dir.Combine("t"), "--include", "a", "--exclude", "b"]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--include and --exclude", r.Stderr);
    }

    [Fact]
    public async Task Zero_runs_are_left_as_holes_and_verify_reads_everything_back()
    {
        var src = _dir.Combine("sparse");
        Directory.CreateDirectory(src);
        var file = Path.Combine(src, "disk.img");
        await using (var f = File.Create(file))
        {
            await new TestData(TestData.Kind.Random, 1 << 20, seed: 3).CopyToAsync(f);
            await new TestData(TestData.Kind.Zeros, 24 << 20).CopyToAsync(f);
            await new TestData(TestData.Kind.Random, 1 << 20, seed: 4).CopyToAsync(f);
        }
        var repo = _store.New();
        await repo.Agent.RunOkAsync("init");
        await repo.Agent.RunOkAsync("backup", src);

        var target = _dir.Combine("target");
        var r = await repo.Agent.RunOkAsync("restore", "latest", "--target", target, "--verify");
        var restored = target + file;
        await FileTrees.AssertSameAsync(src, target + src);
        Assert.Equal(new FileInfo(file).Length, new FileInfo(restored).Length);
        // The zero run holds at least two whole 8 MiB zero blobs that are never written: at least 16 MiB of hole.
        var blocks = long.Parse((await Processes.RunAsync("stat", ["-c", "%b", restored])).EnsureSuccess("stat").StdoutText.Trim());
        Assert.True(blocks * 512 <= (26L << 20) - (16L << 20), $"{blocks} blocks allocated: the zero run was written, not left as a hole");
        Assert.Equal(0, r.ExitCode);
    }

    /// <summary>
    /// One pack of the repository is a FIFO: reading it blocks until the test opens the other end, so the restore
    /// is held exactly at that pack, then fails there. Files whose content was all written by then carry their
    /// metadata; the others must not look complete: none may carry the snapshot's mtime with other content.
    /// </summary>
    [Fact]
    public async Task A_restore_stopped_at_a_pack_leaves_no_file_that_claims_to_be_complete()
    {
        var src = _dir.Combine("many");
        Directory.CreateDirectory(src);
        var stamp = new DateTime(2020, 5, 6, 7, 8, 9, DateTimeKind.Utc);
        for (var i = 0; i < 12; i++)
        {
            var path = Path.Combine(src, $"file{i:D2}");
            await using (var f = File.Create(path)) await new TestData(TestData.Kind.Random, 2 << 20, seed: 100 + i).CopyToAsync(f);
            File.SetLastWriteTimeUtc(path, stamp);
        }
        var repo = _store.New();
        await repo.Agent.RunOkAsync("init");
        await repo.Agent.RunOkAsync("backup", src);

        await using var opened = await Repo.OpenAsync(new LocalBackend(repo.Repository), Repositories.Password);
        await opened.LoadIndexAsync();
        var snapshot = (await opened.LoadSnapshotsAsync()).Single();
        var last = await TreeWalker.FindAsync(opened, snapshot.Tree, $"{src}/file11");
        Assert.True(opened.Index.TryGet(BlobType.Data, last.Content![0], out var lastPack));
        var first = await TreeWalker.FindAsync(opened, snapshot.Tree, $"{src}/file00");
        Assert.True(opened.Index.TryGet(BlobType.Data, first.Content![0], out var firstPack));
        Assert.NotEqual(firstPack.Pack, lastPack.Pack);

        var fifo = Path.Combine(repo.Repository, "data", lastPack.Pack.ToString()[..2], lastPack.Pack.ToString());
        File.Delete(fifo);
        (await Processes.RunAsync("mkfifo", [fifo])).EnsureSuccess("mkfifo");

        var target = _dir.Combine("target");
        var restorer = new Restorer(opened, new RestoreOptions { FilesPerRound = 2, Packs = 1 });
        var restore = Task.Run(() => restorer.RestoreAsync(snapshot.Tree, target));
        // Returns once the restorer opened the pack for reading; closing it at once gives it nothing to read. Shared,
        // so that .NET's advisory lock on our end does not collide with the reader's.
        await Task.Run(() => new FileStream(fifo, FileMode.Open, FileAccess.Write, FileShare.ReadWrite).Dispose()).WaitAsync(TimeSpan.FromMinutes(2));
        // A restore that hangs after its pack failed fails this test, not the whole run.
        await Task.WhenAny(restore, Task.Delay(TimeSpan.FromMinutes(2)));
        Assert.True(restore.IsCompleted, "the restore did not end after its pack failed");
        await Assert.ThrowsAnyAsync<Exception>(() => restore);

        int complete = 0, incomplete = 0;
        for (var i = 0; i < 12; i++)
        {
            var restored = target + Path.Combine(src, $"file{i:D2}");
            if (!File.Exists(restored))
            {
                incomplete++;
                continue;
            }
            var (got, original) = (await File.ReadAllBytesAsync(restored), await File.ReadAllBytesAsync(Path.Combine(src, $"file{i:D2}")));
            var same = Same(got, original);
            if (File.GetLastWriteTimeUtc(restored) == stamp)
            {
                Assert.True(same, $"file{i:D2} carries the snapshot's mtime but not its content");
                complete++;
            }
            else incomplete++;
        }
        Assert.True(complete > 0, "no file was finished before the restore reached the blocked pack");
        Assert.True(incomplete > 0, "every file was finished although a pack could not be read");
    }

    private static bool Same(byte[] a, byte[] b) => a.AsSpan().SequenceEqual(b);
}
