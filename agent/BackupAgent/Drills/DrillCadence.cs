namespace BackupAgent.Drills;

/// <summary>
/// Which nights `drill --when-due` drills. Stateless on purpose: the nightly workflow asks every night, and
/// the answer depends only on the date (UTC), so a missed night never shifts the schedule.
/// </summary>
public static class DrillCadence
{
    /// <returns>Null when a drill is due on <paramref name="now"/>; otherwise why not, in words.</returns>
    public static string? WhyNotToday(string cadence, DateTimeOffset now) => cadence switch
    {
        "daily" => null,
        "weekly" when now.UtcDateTime.DayOfWeek == DayOfWeek.Sunday => null,
        "weekly" => "drills run weekly, on Sundays (UTC)",
        "monthly" when now.UtcDateTime.Day == 1 => null,
        "monthly" => "drills run monthly, on the 1st (UTC)",
        _ => "drill_cadence is never",
    };
}
