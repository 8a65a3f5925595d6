using System.Collections.Concurrent;
using BackupAgent.Pitr;
using Backups.Core.Backends;
using Backups.Core.Wal;
using Backups.Tests.Support;
using Xunit;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Tests.Pitr;

/// <summary>
/// The archiver's read-ahead for restore_command, on a real repository's WAL snapshots: once recovery asks for a
/// segment, the following ones are read before they are asked for; each request gets its own file's bytes, read
/// once, also after a jump; a file the archive does not hold is missing. (PointInTimeRecoveryTests recovers
/// through it with a real server.)
/// </summary>
public sealed class WalReadAheadTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Later_segments_are_read_before_they_are_asked_for_and_every_answer_is_its_own_file()
    {
        var repo = await Repo.InitAsync(new LocalBackend(_dir.Combine("repo")), Repositories.Password);
        var now = DateTimeOffset.UtcNow;
        await new WalHistory(repo).WalAsync(now, now, 1, 2, 3, 4, 5, 6);
        var archive = await WalArchive.LoadAsync(repo, "db", await repo.LoadSnapshotsAsync(), default);
        var reads = new ConcurrentQueue<string>();
        var ahead = new WalReadAhead(name => archive.Files.GetValueOrDefault(name.Name), async (file, ct) =>
        {
            reads.Enqueue(file.Name.Name);
            return await WalArchive.ReadAsync(repo, file, ct);
        }, default);

        Assert.Equal(WalHistory.Content(1), await ahead.FetchAsync(WalHistory.Segment(1), default));
        // 64 KiB segments: the budget holds all the later ones.
        for (var i = 0; reads.Count < 6; i++)
        {
            Assert.True(i < 600, $"only {string.Join(' ', reads)} were read after segment 1 was asked for");
            await Task.Delay(10);
        }
        foreach (var n in new[] { 2, 3, 6, 4 })
            Assert.Equal(WalHistory.Content(n), await ahead.FetchAsync(WalHistory.Segment(n), default));
        Assert.Equal(new[] { 1, 2, 3, 4, 5, 6 }.Select(n => WalHistory.Segment(n).Name), reads.Take(6));
        // Segment 4, asked for after 6, was dropped meanwhile and read again.
        Assert.Equal(WalHistory.Segment(4).Name, reads.ElementAt(6));
        Assert.Null(await ahead.FetchAsync(WalHistory.Segment(7), default));
        Assert.Null(await ahead.FetchAsync(WalFileName.Parse("00000002.history"), default));
    }
}
