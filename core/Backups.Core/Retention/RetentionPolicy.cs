using System.Text.Json.Serialization;
using Backups.Core.Repositories;

namespace Backups.Core.Retention;

/// <summary>
/// Which snapshots of a group to keep, with restic 0.14's meanings: the newest N (last) and the newest
/// snapshot of each of the newest N hours, days, ISO weeks, months and years; everything newer than a
/// duration before the group's newest snapshot, or only its hourly/daily/... snapshots within such a duration;
/// and every snapshot carrying all tags of one of <see cref="KeepTags"/>. A snapshot is kept if any rule
/// keeps it. An empty policy keeps everything. A count of <see cref="Unlimited"/> keeps the newest snapshot of
/// every hour, day, ... (restic 0.16+'s -1 or "unlimited"). Its JSON form is <see cref="RetentionPolicyJson"/>.
/// </summary>
[JsonConverter(typeof(RetentionPolicyJson))]
public sealed record RetentionPolicy
{
    public const int Unlimited = -1;

    /// <summary>Every snapshot: the run config's <c>keep: all</c>, restic's <c>--keep-last unlimited</c>.</summary>
    public static readonly RetentionPolicy KeepAll = new() { Last = Unlimited };

    public int Last { get; init; }
    public int Hourly { get; init; }
    public int Daily { get; init; }
    public int Weekly { get; init; }
    public int Monthly { get; init; }
    public int Yearly { get; init; }
    public RetentionDuration Within { get; init; }
    public RetentionDuration WithinHourly { get; init; }
    public RetentionDuration WithinDaily { get; init; }
    public RetentionDuration WithinWeekly { get; init; }
    public RetentionDuration WithinMonthly { get; init; }
    public RetentionDuration WithinYearly { get; init; }
    public IReadOnlyList<TagList> KeepTags { get; init; } = [];

    public bool IsEmpty =>
        KeepTags.Count == 0 && Last == 0 && Hourly == 0 && Daily == 0 && Weekly == 0 && Monthly == 0 && Yearly == 0
        && Within.IsZero && WithinHourly.IsZero && WithinDaily.IsZero && WithinWeekly.IsZero && WithinMonthly.IsZero
        && WithinYearly.IsZero;

    /// <summary>
    /// Refuses negative counts other than <see cref="Unlimited"/>, and negative durations. restic 0.14 accepts
    /// them, treats the rule as absent, yet counts the policy as non-empty, so `--keep-last -2` alone would
    /// remove every snapshot.
    /// </summary>
    public RetentionPolicy Validated()
    {
        foreach (var (name, n) in new[] { ("last", Last), ("hourly", Hourly), ("daily", Daily), ("weekly", Weekly), ("monthly", Monthly), ("yearly", Yearly) })
            if (n < Unlimited) throw new RepositoryException(ErrorKind.InvalidArgument, $"--keep-{name} must be 0 or more, or unlimited (-1), not {n}");
        foreach (var d in new[] { Within, WithinHourly, WithinDaily, WithinWeekly, WithinMonthly, WithinYearly })
            if (d.Years < 0 || d.Months < 0 || d.Days < 0 || d.Hours < 0)
                throw new RepositoryException(ErrorKind.InvalidArgument, $"durations must not be negative ({d})");
        return this;
    }

    /// <summary>restic's one-line description ("keep 7 daily, 4 weekly snapshots and all snapshots within 1m of the newest").</summary>
    public override string ToString()
    {
        var counts = new[] { (Last, "latest"), (Hourly, "hourly"), (Daily, "daily"), (Weekly, "weekly"), (Monthly, "monthly"), (Yearly, "yearly") }
            .Where(c => c.Item1 != 0).Select(c => c.Item1 == Unlimited ? $"all {c.Item2}" : $"{c.Item1} {c.Item2}").ToList();
        var within = new[] { (WithinHourly, "hourly"), (WithinDaily, "daily"), (WithinWeekly, "weekly"), (WithinMonthly, "monthly"), (WithinYearly, "yearly") }
            .Where(w => !w.Item1.IsZero).Select(w => $"{w.Item2} snapshots within {w.Item1}").ToList();
        var s = counts.Count > 0 ? $"{string.Join(", ", counts)} snapshots" : "";
        if (within.Count > 0) s += (s != "" ? ", " : "") + string.Join(", ", within);
        if (KeepTags.Count > 0) s += (s != "" ? " and " : "") + $"all snapshots with tags [{string.Join(" ", KeepTags)}]";
        if (!Within.IsZero) s += (s != "" ? " and " : "") + $"all snapshots within {Within} of the newest";
        return "keep " + s;
    }
}
