using System.Security.Cryptography;
using Backups.Core;
using Backups.Core.Archiving;
using Backups.Core.Backends;
using Backups.Core.Trees;
using Backups.Tests.Support;
using Xunit;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Tests.Restoring;

/// <summary>
/// A restore writes inside its target and nowhere else, whatever the snapshots hold and whatever the target held
/// before: symlinks in a snapshot or planted in the target are replaced, never followed. restic 0.14 follows them;
/// these run on repositories written by us and by restic.
/// </summary>
public sealed class ConfinedRestoreTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly LocalStore _store;
    private readonly string _outside, _stage;

    public ConfinedRestoreTests()
    {
        _store = new LocalStore(_dir);
        _outside = _dir.Combine("outside");
        Directory.CreateDirectory(_outside);
        File.WriteAllText(Path.Combine(_outside, "victim"), "precious");
        _stage = _dir.Combine("stage");
        Directory.CreateDirectory(Path.Combine(_stage, "s"));
    }

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> Writers => ["us", "restic"];

    private async Task<RepositoryPair> NewRepositoryAsync(string writer)
    {
        var repo = _store.New();
        if (writer == "restic") await repo.Restic.RunOkAsync("init");
        else await repo.Agent.RunOkAsync("init");
        return repo;
    }

    /// <summary>Backs up the stage's "s" as a relative path, so that every snapshot holds it at /s.</summary>
    private async Task BackupAsync(RepositoryPair repo, string writer)
    {
        var r = writer == "restic"
            ? await repo.Restic.RunAsync(["backup", "s"], workingDirectory: _stage)
            : await repo.Agent.RunAsync(["backup", "s"], workingDirectory: _stage);
        r.EnsureSuccess($"{writer} backup");
    }

    private static async Task RestoreLatestAsync(RepositoryPair repo, string target) =>
        await repo.Agent.RunOkAsync("restore", "latest", "--target", target);

    /// <summary>Every path below the outside directory with its type and content hash.</summary>
    private List<string> OutsideState() =>
        Directory.EnumerateFileSystemEntries(_outside, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(p => new FileInfo(p) is { LinkTarget: null, Attributes: var a } && !a.HasFlag(FileAttributes.Directory)
                ? $"{p} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p)))}" : p).ToList();

    [Theory]
    [MemberData(nameof(Writers))]
    public async Task A_directory_restored_where_a_snapshot_had_a_symlink_is_not_written_through_it(string writer)
    {
        var repo = await NewRepositoryAsync(writer);
        var before = OutsideState();
        File.CreateSymbolicLink(Path.Combine(_stage, "s", "d"), _outside);
        await BackupAsync(repo, writer);
        File.Delete(Path.Combine(_stage, "s", "d"));
        Directory.CreateDirectory(Path.Combine(_stage, "s", "d"));
        File.WriteAllText(Path.Combine(_stage, "s", "d", "f"), "from the snapshot");
        await BackupAsync(repo, writer);

        var target = _dir.Combine("target");
        await repo.Agent.RunOkAsync("restore", (await SnapshotIdsAsync(repo))[0], "--target", target);
        Assert.Equal(_outside, new FileInfo(Path.Combine(target, "s", "d")).LinkTarget);
        await RestoreLatestAsync(repo, target);

        Assert.Equal(before, OutsideState());
        Assert.Null(new FileInfo(Path.Combine(target, "s", "d")).LinkTarget);
        Assert.Equal("from the snapshot", File.ReadAllText(Path.Combine(target, "s", "d", "f")));
    }

    [Theory]
    [MemberData(nameof(Writers))]
    public async Task A_symlink_planted_in_the_target_is_replaced_not_followed(string writer)
    {
        var repo = await NewRepositoryAsync(writer);
        Directory.CreateDirectory(Path.Combine(_stage, "s", "d"));
        File.WriteAllText(Path.Combine(_stage, "s", "d", "f"), "from the snapshot");
        File.WriteAllText(Path.Combine(_stage, "s", "victim"), "from the snapshot");
        await BackupAsync(repo, writer);
        var before = OutsideState();

        var target = _dir.Combine("target");
        Directory.CreateDirectory(Path.Combine(target, "s"));
        File.CreateSymbolicLink(Path.Combine(target, "s", "d"), _outside);
        File.CreateSymbolicLink(Path.Combine(target, "s", "victim"), Path.Combine(_outside, "victim"));
        await RestoreLatestAsync(repo, target);

        Assert.Equal(before, OutsideState());
        Assert.Equal("from the snapshot", File.ReadAllText(Path.Combine(target, "s", "d", "f")));
        Assert.Null(new FileInfo(Path.Combine(target, "s", "victim")).LinkTarget);
        Assert.Equal("from the snapshot", File.ReadAllText(Path.Combine(target, "s", "victim")));
    }

    [Theory]
    [MemberData(nameof(Writers))]
    public async Task A_file_restored_over_a_symlink_or_a_hard_link_to_an_outside_file_leaves_that_file_alone(string writer)
    {
        var repo = await NewRepositoryAsync(writer);
        var f = Path.Combine(_stage, "s", "f");
        File.CreateSymbolicLink(f, Path.Combine(_outside, "victim"));
        await BackupAsync(repo, writer);
        File.Delete(f);
        File.WriteAllText(f, "from the snapshot");
        await BackupAsync(repo, writer);
        var before = OutsideState();

        var target = _dir.Combine("target");
        await repo.Agent.RunOkAsync("restore", (await SnapshotIdsAsync(repo))[0], "--target", target);
        await RestoreLatestAsync(repo, target);
        Assert.Equal(before, OutsideState());
        Assert.Equal("from the snapshot", File.ReadAllText(Path.Combine(target, "s", "f")));

        var linked = _dir.Combine("linked");
        Directory.CreateDirectory(Path.Combine(linked, "s"));
        (await Processes.RunAsync("ln", [Path.Combine(_outside, "victim"), Path.Combine(linked, "s", "f")])).EnsureSuccess("ln");
        await RestoreLatestAsync(repo, linked);
        Assert.Equal(before, OutsideState());
        Assert.Equal("from the snapshot", File.ReadAllText(Path.Combine(linked, "s", "f")));
    }

    private static async Task<List<string>> SnapshotIdsAsync(RepositoryPair repo) =>
        (await repo.Restic.JsonAsync("snapshots")).EnumerateArray()
        .OrderBy(s => s.GetProperty("time").GetDateTimeOffset()).Select(s => s.GetProperty("id").GetString()!).ToList();

    [Theory]
    [InlineData("x", "x")]
    [InlineData("../escaped", "ok")]
    [InlineData("a/../../escaped", "ok")]
    [InlineData("..", "ok")]
    public async Task A_tree_with_a_name_used_twice_or_one_that_leaves_its_directory_is_damage(string first, string second)
    {
        var repo = _store.New();
        await repo.Agent.RunOkAsync("init");
        await using (var opened = await Repo.OpenAsync(new LocalBackend(repo.Repository), Repositories.Password))
        await using (var session = await BackupSession.StartAsync(opened, 2, 1, default))
        {
            var stats = new SourceStats();
            var now = DateTimeOffset.Now;
            var a = await session.SaveFileAsync(new MemoryStream("one"u8.ToArray()), "a", now, stats, default);
            var b = await session.SaveFileAsync(new MemoryStream("two"u8.ToArray()), "b", now, stats, default);
            (a.Name, b.Name) = (first, second);
            var tree = await session.SaveTreeAsync([a, b], stats, default);
            await session.FinishAsync(default);
            await session.WriteSnapshotAsync(BackupSession.NewSnapshot(tree, ["/x"], now, "box", [], []), default);
        }

        var target = _dir.Combine("deep", "target");
        var r = await repo.Agent.RunAsync(["restore", "latest", "--target", target]);
        Assert.Equal(15, r.ExitCode);
        Assert.Contains("is damaged", r.Stderr);
        Assert.Empty(Directory.EnumerateFileSystemEntries(target));
        Assert.False(File.Exists(_dir.Combine("deep", "escaped")) || File.Exists(_dir.Combine("escaped")));
    }

    [Fact]
    public async Task A_target_that_is_a_file_is_a_clear_usage_error()
    {
        var repo = _store.New();
        await repo.Agent.RunOkAsync("init");
        File.WriteAllText(Path.Combine(_stage, "s", "f"), "x");
        await BackupAsync(repo, "us");
        var file = _dir.Combine("a-file");
        File.WriteAllText(file, "keep me");

        var r = await repo.Agent.RunAsync(["restore", "latest", "--target", file]);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"backup-agent: cannot restore into {file}: it is a file, not a directory", r.Stderr.Trim());
        Assert.Equal("keep me", File.ReadAllText(file));
    }
}
