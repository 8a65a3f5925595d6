using System.Security.Cryptography;
using Backups.Core;
using Backups.Core.Archiving;
using Backups.Core.Backends;
using Backups.Core.Snapshots;
using Backups.Core.Wal;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Tests.Pitr;

/// <summary>
/// A cluster's history written as the archiver and the nightly run write it, without a server: WAL batches of
/// small segments (64 KiB, a size PostgreSQL allows) and base backups whose tags say where their WAL starts, so
/// that retention, check and recovery planning can be tried on any shape of archive in a second.
/// </summary>
public sealed class WalHistory(Repo repo, string source = "db")
{
    public const long SegmentSize = 64 << 10;
    private const string Host = "box";

    public Repo Repository => repo;

    public static WalFileName Segment(int n, uint timeline = 1) => WalFileName.Parse($"{timeline:X8}00000000{n:X8}");

    /// <summary>Segment <paramref name="n"/>'s bytes: the same every time it is made.</summary>
    public static byte[] Content(int n)
    {
        var content = new byte[SegmentSize];
        new Random(n).NextBytes(content);
        return content;
    }

    /// <summary>One archiver batch of the given segments, taken in at <paramref name="archived"/>, its snapshot dated <paramref name="time"/>.</summary>
    public Task<Snapshot> WalAsync(DateTimeOffset archived, DateTimeOffset time, params int[] segments) =>
        WalOnAsync(1, archived, time, segments);

    /// <summary>A batch of segments of <paramref name="timeline"/> (after a promotion).</summary>
    public Task<Snapshot> WalOnAsync(uint timeline, DateTimeOffset archived, DateTimeOffset time, params int[] segments) =>
        SaveAsync(time, [.. segments.Select(n => new WalFile(Segment(n, timeline), Content(n), archived))]);

    /// <summary>The history file a promotion to <paramref name="timeline"/> archives: it branched off timeline
    /// <c>timeline - 1</c> at <paramref name="branch"/>.</summary>
    public Task<Snapshot> HistoryAsync(uint timeline, Lsn branch, DateTimeOffset archived) =>
        SaveAsync(archived, [new WalFile(WalFileName.Parse($"{timeline:X8}.history"),
            System.Text.Encoding.UTF8.GetBytes($"{timeline - 1}\t{branch}\tno recovery target specified\n"), archived)]);

    private async Task<Snapshot> SaveAsync(DateTimeOffset time, WalFile[] files)
    {
        var (snapshot, _, _) = await WalWriter.SaveAsync(repo, source, Host, files, default);
        return await RedateAsync(snapshot, time);
    }

    /// <summary>A base backup finished at <paramref name="time"/> whose WAL starts and stops in <paramref name="segment"/>.</summary>
    public async Task<Snapshot> BaseAsync(DateTimeOffset time, int segment)
    {
        var facts = new BaseBackupFacts(new Lsn((ulong)(segment * SegmentSize) + 40), new Lsn((ulong)(segment * SegmentSize) + 4096), 1, "15", "7312345678901234567");
        await using var session = await BackupSession.StartAsync(repo, 2, 1, default);
        var tree = await session.SaveStreamAsync(new MemoryStream(RandomNumberGenerator.GetBytes(1000)), "PG_VERSION", time, new SourceStats(), default);
        await session.FinishAsync(default);
        return await session.WriteSnapshotAsync(BackupSession.NewSnapshot(tree, [PgSnapshots.BasePath(source)], time, Host,
            SnapshotSource.Tags(source, facts.Tags), []), default);
    }

    /// <summary>The same snapshot at another time (the archiver always stamps "now").</summary>
    private async Task<Snapshot> RedateAsync(Snapshot snapshot, DateTimeOffset time)
    {
        var old = snapshot.Id;
        snapshot.Time = time;
        snapshot.Id = await repo.SaveSnapshotAsync(snapshot);
        await repo.Backend.RemoveAsync(new FileHandle(FileKind.Snapshot, old.ToString()), default);
        return snapshot;
    }
}
