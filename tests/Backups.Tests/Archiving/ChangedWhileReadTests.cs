using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Archiving;

/// <summary>A file written to while it is backed up is stored as read, with a warning (exit 3), and the snapshot
/// stays one restic checks and restores.</summary>
public sealed class ChangedWhileReadTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_file_growing_during_the_backup_is_saved_as_read_with_a_warning()
    {
        var repo = new LocalStore(_dir).New();
        await repo.Agent.RunOkAsync("init");
        var src = _dir.Combine("src");
        Directory.CreateDirectory(src);
        var log = Path.Combine(src, "growing.log");
        await using (var f = File.Create(log)) await new TestData(TestData.Kind.Text, 8 << 20).CopyToAsync(f);

        // Appends all the time the backup runs: between the walk's stat and the end of the read it grows.
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            await using var f = new FileStream(log, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
            var line = "another line of the log\n"u8.ToArray();
            while (!stop.IsCancellationRequested)
            {
                await f.WriteAsync(line);
                await f.FlushAsync();
                await Task.Delay(1);
            }
        });
        ProcessResult r;
        try
        {
            r = await repo.Agent.RunAsync(["backup", src]);
        }
        finally
        {
            await stop.CancelAsync();
            await writer;
        }

        Assert.Equal(3, r.ExitCode);
        Assert.Contains("growing.log changed while it was read", r.Stderr + r.StdoutText);
        await repo.Restic.CheckAsync(readData: true);
        var ls = await repo.Restic.RunOkAsync("ls", "latest", "--long");
        Assert.Contains("growing.log", ls.StdoutText);
    }
}
