using Backups.Core;
using Backups.Core.Archiving;
using Backups.Core.Backends;
using Backups.Core.Json;
using Backups.Core.Repositories;
using Backups.Core.Restoring;
using Backups.Core.Trees;
using Backups.Tests.Support;
using Xunit;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Tests.Restoring;

/// <summary>
/// The restorer in process, against trees a hostile repository could hold: a name that leaves its directory
/// (.., ., empty, one holding '/' or NUL, an absolute path), a name used twice to send a directory's content through
/// a symlink of the same name, and symlinks already planted in the target. The bad trees are damage and nothing
/// is written outside the target; planted symlinks are replaced, not followed. (ConfinedRestoreTests runs the
/// same kind of cases through the program.)
/// </summary>
public sealed class HostileTreeRestorerTests : IDisposable
{
    private static readonly DateTimeOffset Time = new(2024, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private readonly TempDir _dir = new();
    private readonly string _target, _outside;

    public HostileTreeRestorerTests()
    {
        _target = _dir.Combine("deep", "target");
        _outside = _dir.Combine("outside");
        Directory.CreateDirectory(_outside);
        File.WriteAllText(Path.Combine(_outside, "keep"), "keep me");
    }

    public void Dispose() => _dir.Dispose();

    /// <summary>A repository holding the tree <paramref name="build"/> makes (files hold "pwned"); returns it opened
    /// and the root tree's id.</summary>
    private async Task<(Repo Repo, Id Tree)> RepositoryAsync(Func<BackupSession, Func<string, Task<Node>>, Task<Id>> build)
    {
        var repo = await Repo.InitAsync(new LocalBackend(_dir.Combine("repo")), Repositories.Password);
        Id tree;
        await using (var session = await BackupSession.StartAsync(repo, 2, 1, default))
        {
            var stats = new SourceStats();
            tree = await build(session, name => session.SaveFileAsync(new MemoryStream("pwned"u8.ToArray()), name, Time, stats, default));
            await session.FinishAsync(default);
        }
        return (repo, tree);
    }

    private static Node DirectoryNode(string name, Id subtree) => new()
    {
        Name = name, Type = Node.Dir, Mode = Node.GoModeDir | 0b111_101_101, Subtree = subtree,
        ModTime = Timestamp.FromDateTimeOffset(Time), AccessTime = Timestamp.FromDateTimeOffset(Time), ChangeTime = Timestamp.FromDateTimeOffset(Time),
    };

    private static Node SymlinkNode(string name, string target) => new()
    {
        Name = name, Type = Node.Symlink, Mode = Node.GoModeSymlink | 0b111_111_111, LinkTarget = target,
        ModTime = Timestamp.FromDateTimeOffset(Time), AccessTime = Timestamp.FromDateTimeOffset(Time), ChangeTime = Timestamp.FromDateTimeOffset(Time),
    };

    /// <summary>Every file under the test's folder that holds the tree's content, outside the target.</summary>
    private string[] WrittenOutsideTarget() =>
        [.. Directory.EnumerateFiles(_dir.Path, "*", SearchOption.AllDirectories)
            .Where(f => !f.StartsWith(_target + "/") && !f.StartsWith(_dir.Combine("repo") + "/"))
            .Where(f => File.ReadAllText(f) == "pwned")];

    public static TheoryData<string> EscapingNames => ["..", ".", "", "../escaped", "a/../../escaped", "/tmp/escaped-by-an-absolute-name", "x\0y"];

    [Theory]
    [MemberData(nameof(EscapingNames))]
    public async Task A_name_that_could_leave_its_directory_is_damage_and_nothing_is_written_outside(string name)
    {
        var (repo, tree) = await RepositoryAsync(async (session, file) =>
        {
            var stats = new SourceStats();
            var sub = await session.SaveTreeAsync([await file("fine"), await file(name)], stats, default);
            return await session.SaveTreeAsync([DirectoryNode("sub", sub)], stats, default);
        });
        await using (repo)
        {
            var e = await Assert.ThrowsAsync<RepositoryException>(() => new Restorer(repo).RestoreAsync(tree, _target));
            Assert.Equal(ErrorKind.Damaged, e.Kind);
            Assert.Contains("invalid name", e.Message);
        }
        Assert.Empty(WrittenOutsideTarget());
        Assert.False(File.Exists("/tmp/escaped-by-an-absolute-name"));
        Assert.Empty(Directory.EnumerateFiles(_target, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_directory_named_as_a_symlink_beside_it_is_damage_and_the_symlinks_target_stays_untouched()
    {
        var (repo, tree) = await RepositoryAsync(async (session, file) =>
        {
            var stats = new SourceStats();
            var content = await session.SaveTreeAsync([await file("planted")], stats, default);
            return await session.SaveTreeAsync([SymlinkNode("d", _outside), DirectoryNode("d", content)], stats, default);
        });
        await using (repo)
        {
            var e = await Assert.ThrowsAsync<RepositoryException>(() => new Restorer(repo).RestoreAsync(tree, _target));
            Assert.Equal(ErrorKind.Damaged, e.Kind);
            Assert.Contains("two nodes are named 'd'", e.Message);
        }
        Assert.Equal(["keep"], Directory.EnumerateFileSystemEntries(_outside).Select(Path.GetFileName));
        Assert.Empty(WrittenOutsideTarget());
    }

    [Fact]
    public async Task Symlinks_planted_in_the_target_are_replaced_and_what_they_point_at_is_left_alone()
    {
        var (repo, tree) = await RepositoryAsync(async (session, file) =>
        {
            var stats = new SourceStats();
            var d = await session.SaveTreeAsync([await file("planted")], stats, default);
            return await session.SaveTreeAsync([DirectoryNode("d", d), await file("keep"), SymlinkNode("s", _outside)], stats, default);
        });
        Directory.CreateDirectory(_target);
        File.CreateSymbolicLink(Path.Combine(_target, "d"), _outside);
        File.CreateSymbolicLink(Path.Combine(_target, "keep"), Path.Combine(_outside, "keep"));
        await using (repo) await new Restorer(repo).RestoreAsync(tree, _target);

        Assert.Equal("keep me", File.ReadAllText(Path.Combine(_outside, "keep")));
        Assert.Equal(["keep"], Directory.EnumerateFileSystemEntries(_outside).Select(Path.GetFileName));
        Assert.Empty(WrittenOutsideTarget());
        Assert.Null(new DirectoryInfo(Path.Combine(_target, "d")).LinkTarget);
        Assert.Equal("pwned", File.ReadAllText(Path.Combine(_target, "d", "planted")));
        Assert.Null(new FileInfo(Path.Combine(_target, "keep")).LinkTarget);
        Assert.Equal("pwned", File.ReadAllText(Path.Combine(_target, "keep")));
        // A symlink of the snapshot is made as a symlink, pointing where it pointed; nothing is written through it.
        Assert.Equal(_outside, new FileInfo(Path.Combine(_target, "s")).LinkTarget);
    }
}
