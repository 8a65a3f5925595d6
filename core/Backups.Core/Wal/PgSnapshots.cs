using System.Globalization;
using Backups.Core.Snapshots;

namespace Backups.Core.Wal;

/// <summary>
/// How a PostgreSQL cluster's snapshots are told apart and what they record, in tags that `restic snapshots`
/// shows: after the source's name, "pg-base" and the base backup's facts (where its WAL starts and stops, the
/// timeline, the server's major version and system identifier), or "wal" for a batch of archived WAL files.
/// </summary>
public static class PgSnapshots
{
    public const string BaseTag = "pg-base", WalTag = "wal";

    public static bool IsBase(Snapshot s) => s.Tags?.Contains(BaseTag) == true;
    public static bool IsWal(Snapshot s) => s.Tags?.Contains(WalTag) == true;

    /// <summary>The path a source's base backups list (their tree is the data directory's content).</summary>
    public static string BasePath(string source) => $"/{source}.pgdata";

    /// <summary>The path a source's WAL snapshots list (their tree holds the files themselves).</summary>
    public static string WalPath(string source) => $"/{source}.wal";

    /// <summary>The tag of the nightly run's snapshot of a cluster's drill facts (row counts at a recorded moment),
    /// which the PITR drill recovers to.</summary>
    public const string FactsTag = "pg-facts";

    public static bool IsFacts(Snapshot s) => s.Tags?.Contains(FactsTag) == true;

    private const string RpoKey = "pg-rpo-seconds=";

    /// <summary>The RPO when nothing better is known: neither configured nor derived from archive_timeout.</summary>
    public static readonly TimeSpan DefaultRpo = TimeSpan.FromMinutes(15);

    /// <summary>The tag that tells the Freshness step how old the newest archived WAL may be: the nightly run
    /// writes it on the facts snapshot, from the source's config and the server's archive_timeout.</summary>
    public static string RpoTag(TimeSpan rpo) => RpoKey + ((long)rpo.TotalSeconds).ToString(CultureInfo.InvariantCulture);

    /// <summary>The recovery point objective a snapshot carries; null when it carries none.</summary>
    public static TimeSpan? Rpo(Snapshot s) =>
        s.Tags?.FirstOrDefault(t => t.StartsWith(RpoKey, StringComparison.Ordinal)) is { } tag
        && long.TryParse(tag.AsSpan(RpoKey.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds) : null;
}

/// <summary>What recovery needs to know of a base backup, read from its backup_label and manifest.</summary>
public sealed record BaseBackupFacts(Lsn Start, Lsn Stop, uint Timeline, string Version, string SystemId)
{
    private const string StartKey = "pg-start-lsn=", StopKey = "pg-stop-lsn=", TimelineKey = "pg-timeline=",
        VersionKey = "pg-version=", SystemKey = "pg-system-id=";

    public IEnumerable<string> Tags =>
    [
        PgSnapshots.BaseTag, StartKey + Start, StopKey + Stop, TimelineKey + Timeline.ToString(CultureInfo.InvariantCulture),
        VersionKey + Version, SystemKey + SystemId,
    ];

    /// <summary>The facts of a base backup snapshot; null when its tags do not hold them all (not one of ours, or altered).</summary>
    public static BaseBackupFacts? Of(Snapshot s)
    {
        string? Tag(string key) => s.Tags?.FirstOrDefault(t => t.StartsWith(key, StringComparison.Ordinal))?[key.Length..];
        return PgSnapshots.IsBase(s)
            && Tag(StartKey) is { } start && Lsn.TryParse(start, out var startLsn)
            && Tag(StopKey) is { } stop && Lsn.TryParse(stop, out var stopLsn)
            && uint.TryParse(Tag(TimelineKey), CultureInfo.InvariantCulture, out var timeline)
            && Tag(VersionKey) is { } version && Tag(SystemKey) is { } system
            ? new BaseBackupFacts(startLsn, stopLsn, timeline, version, system)
            : null;
    }
}
