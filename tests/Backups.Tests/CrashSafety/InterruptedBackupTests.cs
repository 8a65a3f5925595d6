using Backups.Tests.Errors;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.CrashSafety;

/// <summary>
/// A backup stopped politely (Ctrl-C, or SIGTERM from kill, systemd or docker stop) ends at once with exit code
/// 130 and one line, removes its lock and saves no snapshot, as restic does: only SIGKILL leaves a stale lock.
/// </summary>
public sealed class InterruptedBackupTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(BackupProcess.SIGINT)]
    [InlineData(BackupProcess.SIGTERM)]
    public async Task Signalled_backup_removes_its_lock_and_saves_no_snapshot(int signal)
    {
        var repo = new LocalStore(_dir).New();
        await repo.Agent.RunOkAsync("init");

        // Input without end: only the signal ends this backup.
        await using var backup = BackupProcess.Start(repo.Agent, "endless.bin", new TestData(TestData.Kind.Random, long.MaxValue, seed: signal));
        while (RepositoryFiles.Ids(repo.Repository, "locks").Count == 0)
        {
            Assert.False(backup.HasExited, "the backup ended before it took its lock");
            await Task.Delay(50);
        }
        backup.Signal(signal);
        // The bound only keeps a hanging program from hanging the test run.
        var (killed, exitCode, stderr) = await backup.FinishAsync(killAfter: TimeSpan.FromSeconds(60));

        Assert.False(killed, $"the backup did not stop on the signal within 60 s; its stderr: {stderr}");
        Failure.AssertOneLine(new ProcessResult(exitCode, [], stderr), Failure.Interrupted, "interrupted");
        Assert.Empty(RepositoryFiles.Ids(repo.Repository, "locks"));
        Assert.Empty((await repo.Restic.JsonAsync("snapshots")).EnumerateArray());
        await repo.Restic.CheckAsync(readData: true);
    }
}
