using System.Globalization;

namespace Backups.Core.Retention;

/// <summary>
/// Snapshot times as restic's policy sees them (Go's time.Time semantics): calendar buckets on the wall clock
/// of the offset the snapshot was stored with, and the --keep-within cut-off as Go's AddDate computes it.
/// </summary>
public static class SnapshotCalendar
{
    public static int Hour(DateTimeOffset t) => Day(t) * 100 + t.Hour;

    public static int Day(DateTimeOffset t) => t.Year * 10000 + t.Month * 100 + t.Day;

    /// <summary>ISO 8601 week with its week-based year (the last days of December may be week 1 of the next year).</summary>
    public static int Week(DateTimeOffset t) => ISOWeek.GetYear(t.DateTime) * 100 + ISOWeek.GetWeekOfYear(t.DateTime);

    public static int Month(DateTimeOffset t) => t.Year * 100 + t.Month;

    public static int Year(DateTimeOffset t) => t.Year;

    /// <summary>
    /// The instant <paramref name="within"/> before <paramref name="latest"/>: restic's
    /// latest.AddDate(-y, -m, -d).Add(-h hours). Go normalizes overflowing dates (31 March minus a month is
    /// 3 March, not 28 February) and resolves the new wall clock in the time's location, which is the local
    /// zone when the stored offset is the local zone's offset at that instant (so a step back across a DST
    /// change keeps the wall clock), UTC for "Z", and otherwise the fixed stored offset.
    /// </summary>
    public static DateTimeOffset Cutoff(DateTimeOffset latest, RetentionDuration within, TimeZoneInfo local)
    {
        var wall = latest.DateTime;
        var months = wall.Year * 12L + wall.Month - 1 - within.Years * 12L - within.Months;
        var year = Math.DivRem(months, 12L, out var month);
        if (month < 0) { year--; month += 12; }
        if (year < 1) return DateTimeOffset.MinValue;
        DateTime date;
        try
        {
            date = new DateTime((int)year, (int)month + 1, 1).AddDays(wall.Day - 1L - within.Days) + wall.TimeOfDay;
        }
        catch (ArgumentOutOfRangeException)
        {
            return DateTimeOffset.MinValue;
        }
        var utc = InLocationOf(latest, date, local);
        var hours = TimeSpan.FromHours(within.Hours);
        return utc - DateTime.MinValue <= hours ? DateTimeOffset.MinValue : new DateTimeOffset(utc - hours, TimeSpan.Zero);
    }

    /// <summary>The UTC instant of wall clock <paramref name="wall"/> in the location Go gives <paramref name="t"/>.</summary>
    private static DateTime InLocationOf(DateTimeOffset t, DateTime wall, TimeZoneInfo local)
    {
        var asUtc = DateTime.SpecifyKind(wall, DateTimeKind.Utc);
        var inLocalZone = t.Offset != TimeSpan.Zero && local.GetUtcOffset(t.UtcDateTime) == t.Offset;
        if (!inLocalZone) return asUtc - t.Offset;
        // Go's Date(): guess the offset at the wall clock read as UTC, then take the offset in force at the
        // instant that guess gives (this picks the same side of a DST gap or overlap as Go does).
        var guess = local.GetUtcOffset(asUtc);
        return asUtc - local.GetUtcOffset(asUtc - guess);
    }
}
