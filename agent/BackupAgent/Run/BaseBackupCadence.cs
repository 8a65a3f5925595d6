using Backups.Core.Repositories;
using Backups.Core.Retention;
using Backups.Core.Snapshots;
using Backups.Core.Wal;

namespace BackupAgent.Run;

/// <summary>
/// Whether tonight's run takes a postgres-cluster source's base backup: only when its newest one is at least
/// base_backup_every old. Between base backups recovery replays more WAL, so a longer cadence trades restore
/// time for repository growth and the nightly load of a full copy.
/// </summary>
public static class BaseBackupCadence
{
    public const string Default = "1d";

    /// <summary>A run that starts up to this much earlier than the one that took the newest base backup still
    /// takes tonight's: without it a daily cadence would skip every other night on a jittery schedule.</summary>
    private static readonly TimeSpan Slack = TimeSpan.FromHours(1);

    public static RetentionDuration Parse(string at, string text)
    {
        RetentionDuration every;
        try
        {
            every = RetentionDuration.Parse(text);
        }
        catch (RepositoryException e)
        {
            throw new ConfigException(at, e.Message);
        }
        return every.IsZero ? throw new ConfigException(at, "must be a positive duration, e.g. 1d or 7d") : every;
    }

    /// <returns>Null when a base backup is due; otherwise why not, in words for the run's result.</returns>
    public static string? WhyNotTonight(SourceConfig source, IEnumerable<Snapshot> snapshots, DateTimeOffset now)
    {
        var text = source.BaseBackupEvery ?? Default;
        var newest = snapshots.Where(s => SnapshotSource.Of(s) == source.Name && BaseBackupFacts.Of(s) != null).MaxBy(s => s.Time);
        if (newest == null) return null;
        var due = SnapshotCalendar.Cutoff(now, Parse("base_backup_every", text), TimeZoneInfo.Local) + Slack;
        if (newest.Time <= due) return null;
        var age = now - newest.Time;
        return $"base backup not due: the newest ({newest.Id.Short}, {newest.Time.UtcDateTime:yyyy-MM-dd HH:mm} UTC) is "
               + (age.TotalHours >= 48 ? $"{age.TotalDays:0.#} days" : $"{age.TotalHours:0.#} h") + $" old, base_backup_every is {text}";
    }
}
