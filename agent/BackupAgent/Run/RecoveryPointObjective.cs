using BackupAgent.Drills;
using Backups.Core.Wal;

namespace BackupAgent.Run;

/// <summary>
/// How old a postgres-cluster source's newest archived WAL may be before the Freshness step fails: the
/// configured rpo_minutes, else the server's archive_timeout (read by the nightly run with the facts) plus 5
/// minutes for the archiver's batch and the upload, else 15 minutes when archive_timeout is off (a quiet
/// server then archives only full segments, and no bound follows from its settings).
/// </summary>
public static class RecoveryPointObjective
{
    public static readonly TimeSpan Margin = TimeSpan.FromMinutes(5);

    public static TimeSpan Of(SourceConfig source, DrillFacts facts) =>
        source.RpoMinutes is { } minutes ? TimeSpan.FromMinutes(minutes)
        : facts.ArchiveTimeoutSeconds is > 0 and var seconds ? TimeSpan.FromSeconds(seconds) + Margin
        : PgSnapshots.DefaultRpo;
}
