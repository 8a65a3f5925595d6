using System.Diagnostics;
using BackupAgent.Pitr;
using BackupAgent.Run;
using Backups.Core.Repositories;
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
    public static async Task RunAsync(Repo repo, DrillFacts? facts, SourceConfig source, SourceDrill drill, Action<string> log, CancellationToken ct)
    {
        if (facts == null) return;
        if (facts is not { Moment: { } moment, Role: { } role, Database: { } database, Tables: { } tables })
        {
            drill.Check("facts", false, "a moment, a role, a database and row counts", "incomplete facts", "the facts record no moment to recover to");
            return;
        }
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
}
