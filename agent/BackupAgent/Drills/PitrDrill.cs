using System.Diagnostics;
using BackupAgent.Pitr;
using BackupAgent.Run;
using Backups.Core.Repositories;
using Backups.Core.Snapshots;
using Backups.Core.Wal;
using Repo = Backups.Core.Repositories.Repository;

namespace BackupAgent.Drills;

/// <summary>
/// A postgres-cluster source's drill: point-in-time recovery, as `pitr --start` does it, of the newest base
/// backup before the moment the nightly run recorded its facts, replaying the archived WAL up to that moment
/// into a temporary cluster; then every table's rows are counted as the same role and compared exactly with
/// the recorded counts. A gap in the WAL or a base backup that cannot be read fails it, saying where.
/// </summary>
public static class PitrDrill
{
    /// <summary>How long after archive_timeout a segment takes to be stored: the archiver pushes a batch within seconds.</summary>
    private static readonly TimeSpan PushMargin = TimeSpan.FromSeconds(10);

    public static async Task RunAsync(Repo repo, DrillFacts? facts, SourceConfig source, SourceDrill drill, Action<string> log, CancellationToken ct)
    {
        if (facts == null) return;
        if (facts is not { Moment: { } moment, Role: { } role, Database: { } database, Tables: { } tables })
        {
            drill.Check("facts", false, "a moment, a role, a database and row counts", "incomplete facts", "the facts record no moment to recover to");
            return;
        }
        await WaitForArchiveAsync(repo, source.Name!, moment, facts.ArchiveTimeoutSeconds ?? 0, log, ct);
        var target = new RecoveryTarget(moment, null);
        var clock = Stopwatch.StartNew();
        RecoveryResult? recovered = null;
        TemporaryCluster cluster;
        try
        {
            cluster = await TemporaryCluster.RecoverAsync(role, async data =>
            {
                recovered = await new Recovery(repo, source.Name!, log).RunAsync(target, data, WalProtocol.DefaultSocket, start: true, ct);
                drill.RestoreSeconds = Math.Round(clock.Elapsed.TotalSeconds, 3);
                drill.RestoreBytes = new DirectoryInfo(data).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
            }, ct);
        }
        catch (Exception e) when (e is RepositoryException or DrillStepException)
        {
            drill.Check("recovery", false, $"recovered to {target}", recovered == null ? "not recovered" : "recovered, but the cluster did not start",
                e.Message);
            return;
        }
        await using (cluster)
        {
            drill.RestoredInto = cluster.Description;
            drill.Check("recovery", true, $"recovered to {target}",
                $"from base backup {recovered!.BaseSnapshot[..8]}: last transaction {recovered.ReachedTime ?? "none"}, WAL {recovered.ReachedLsn}");
            drill.CompareCounts("rows", tables, await cluster.Connection.WithDatabase(database).RowCountsAsync(ct), 0, absentIsZero: false);
        }
    }

    /// <summary>
    /// The WAL past the moment (the facts' own commit, at least) reaches the archive within archive_timeout of it,
    /// when PostgreSQL switches segments: a drill that runs right after the nightly run, as the workflow's does,
    /// waits that long for an archived file PostgreSQL finished after the moment (a batch stored after it may hold
    /// only an older backlog), and no longer (a recovery short of it then says which segment is missing).
    /// </summary>
    private static async Task WaitForArchiveAsync(Repo repo, string source, DateTimeOffset moment, int archiveTimeoutSeconds, Action<string> log,
        CancellationToken ct)
    {
        var until = moment + TimeSpan.FromSeconds(archiveTimeoutSeconds) + PushMargin;
        for (var told = false; DateTimeOffset.Now < until; told = true)
        {
            // Only a batch stored after the moment can hold a file written after it: the index and a tree are read
            // only once there is one.
            var snapshots = await repo.LoadSnapshotsAsync(ct);
            if (snapshots.Any(s => SnapshotSource.Of(s) == source && PgSnapshots.IsWal(s) && s.Time > moment))
            {
                await repo.LoadIndexAsync(ct);
                if (await WalArchive.NewestAsync(repo, source, snapshots, ct) is { } newest && newest.Written > moment) return;
            }
            if (!told) log($"waiting until {until:HH:mm:ss} for the WAL past {moment:HH:mm:ss.ffffff} to be archived");
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
        }
    }
}
