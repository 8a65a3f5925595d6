using Backups.Core.FileSystem;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Archiving;

/// <summary>The opened-directory primitives that keep the walk and the restore off symlinks.</summary>
public sealed class DirectoryHandleTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Opening_a_symlink_as_a_file_or_a_directory_fails_instead_of_following_it()
    {
        File.WriteAllText(_dir.Combine("target"), "x");
        File.CreateSymbolicLink(_dir.Combine("link"), _dir.Combine("target"));
        File.CreateSymbolicLink(_dir.Combine("dirlink"), _dir.Path);
        using var dir = DirectoryHandle.Open(_dir.Path);

        Assert.True(Assert.Throws<IOException>(() => dir.OpenFile("link")).HResult == 40); // ELOOP
        Assert.True(Assert.Throws<IOException>(() => dir.OpenDirectory("dirlink")).HResult is 40 or 20);
    }

    [Fact]
    public async Task Opening_a_fifo_does_not_wait_for_a_writer()
    {
        (await Processes.RunAsync("mkfifo", [_dir.Combine("pipe")])).EnsureSuccess("mkfifo");
        using var dir = DirectoryHandle.Open(_dir.Path);
        using var pipe = dir.OpenFile("pipe");
        Assert.Equal("fifo", FileStat.Of(pipe, "pipe").NodeType);
    }

    [Fact]
    public void Removing_a_directory_removes_its_contents_without_following_symlinks_inside()
    {
        var outside = _dir.Combine("outside");
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(outside, "keep"), "x");
        var doomed = _dir.Combine("doomed", "deeper");
        Directory.CreateDirectory(doomed);
        File.CreateSymbolicLink(Path.Combine(doomed, "link"), outside);
        File.WriteAllText(Path.Combine(doomed, "file"), "x");
        using var dir = DirectoryHandle.Open(_dir.Path);

        dir.Remove("doomed");

        Assert.False(Directory.Exists(_dir.Combine("doomed")));
        Assert.True(File.Exists(Path.Combine(outside, "keep")));
    }
}
