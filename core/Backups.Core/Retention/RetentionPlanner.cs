using Backups.Core.Snapshots;

namespace Backups.Core.Retention;

/// <summary>restic 0.14's forget decisions (internal/restic/snapshot_policy.go, cmd_forget.go), applied per group.
/// A cluster's WAL snapshots are left out: no keep rule counts them (<see cref="Wal.WalRetention"/> plans them).</summary>
public static class RetentionPlanner
{
    /// <param name="now">Snapshots after it are never "the newest" that --keep-within counts back from.</param>
    /// <param name="local">The zone Go's time.Local would be (TZ); it matters only for --keep-within*.</param>
    public static ForgetPlan Plan(IEnumerable<Snapshot> snapshots, ForgetRequest request, DateTimeOffset now, TimeZoneInfo local)
    {
        var policy = request.Validated().Policy;
        var selected = snapshots.Where(s => request.Filter.Matches(s) && !Wal.PgSnapshots.IsWal(s));
        if (request.BySource is not { } bySource) return new ForgetPlan(PlanScope(selected, null, policy, request.Grouping, now, local).ToList());
        var scopes = selected.Select(s => (Snapshot: s, Scope: bySource.ScopeOf(s, policy)))
            .GroupBy(s => (s.Scope.Source, s.Scope.Tag))
            .OrderBy(g => g.Key.Source, StringComparer.Ordinal).ThenBy(g => g.Key.Tag, StringComparer.Ordinal);
        return new ForgetPlan(scopes.SelectMany(g =>
        {
            var scope = g.First().Scope;
            return PlanScope(g.Select(s => s.Snapshot), scope, scope.Policy, request.Grouping, now, local);
        }).ToList());
    }

    /// <summary>One policy over its snapshots, group by group; an empty policy keeps them all (no groups).</summary>
    private static IEnumerable<GroupPlan> PlanScope(IEnumerable<Snapshot> snapshots, RetentionScope? scope, RetentionPolicy policy,
        SnapshotGrouping grouping, DateTimeOffset now, TimeZoneInfo local) =>
        policy.IsEmpty ? [] : grouping.Group(snapshots).Select(g => PlanGroup(g.Key, g.Snapshots, policy, now, local) with { Scope = scope });

    private sealed class Counter(int count, Func<DateTimeOffset, int, int> bucket, string reason)
    {
        public int Count = count;
        public int? LastBucket;
        public bool Keeps(DateTimeOffset t, int nr)
        {
            if (Count == 0) return false;
            var value = bucket(t, nr);
            if (value == LastBucket) return false;
            LastBucket = value;
            // Unlimited (-1) never runs out, as in restic 0.16+.
            if (Count > 0) Count--;
            return true;
        }
        public string Reason => reason;
    }

    private sealed class WithinCounter(RetentionDuration within, Func<DateTimeOffset, int> bucket, string reason)
    {
        public RetentionDuration Within => within;
        public DateTimeOffset Cutoff;
        private int? _lastBucket;
        public bool Keeps(DateTimeOffset t)
        {
            if (within.IsZero || t <= Cutoff) return false;
            var value = bucket(t);
            if (value == _lastBucket) return false;
            _lastBucket = value;
            return true;
        }
        public string Reason => $"{reason} {within}";
    }

    private static GroupPlan PlanGroup(SnapshotGroupKey key, List<Snapshot> group, RetentionPolicy p, DateTimeOffset now, TimeZoneInfo local)
    {
        // Newest first; equal times keep their order (restic's sort.Stable; its own input order is that of
        // parallel loading, so for equal times restic itself is not deterministic).
        var list = group.OrderByDescending(s => s.Time.UtcTicks).ToList();
        Counter[] counters =
        [
            new(p.Last, (_, nr) => nr, "last snapshot"),
            new(p.Hourly, (t, _) => SnapshotCalendar.Hour(t), "hourly snapshot"),
            new(p.Daily, (t, _) => SnapshotCalendar.Day(t), "daily snapshot"),
            new(p.Weekly, (t, _) => SnapshotCalendar.Week(t), "weekly snapshot"),
            new(p.Monthly, (t, _) => SnapshotCalendar.Month(t), "monthly snapshot"),
            new(p.Yearly, (t, _) => SnapshotCalendar.Year(t), "yearly snapshot"),
        ];
        WithinCounter[] within =
        [
            new(p.WithinHourly, SnapshotCalendar.Hour, "hourly within"),
            new(p.WithinDaily, SnapshotCalendar.Day, "daily within"),
            new(p.WithinWeekly, SnapshotCalendar.Week, "weekly within"),
            new(p.WithinMonthly, SnapshotCalendar.Month, "monthly within"),
            new(p.WithinYearly, SnapshotCalendar.Year, "yearly within"),
        ];
        var latest = Latest(list, now);
        foreach (var w in within) w.Cutoff = CutoffFrom(latest, w.Within, local);
        var withinAll = CutoffFrom(latest, p.Within, local);

        var keep = new List<Snapshot>();
        var remove = new List<Snapshot>();
        var reasons = new List<KeepReason>();
        for (var nr = 0; nr < list.Count; nr++)
        {
            var s = list[nr];
            var matches = new List<string>();
            foreach (var tags in p.KeepTags)
                if (tags.MatchedBy(s.Tags)) matches.Add($"has tags {tags}");
            if (!p.Within.IsZero && s.Time > withinAll) matches.Add($"within {p.Within}");
            foreach (var c in counters)
                if (c.Keeps(s.Time, nr)) matches.Add(c.Reason);
            foreach (var w in within)
                if (w.Keeps(s.Time)) matches.Add(w.Reason);
            if (matches.Count == 0)
            {
                remove.Add(s);
                continue;
            }
            keep.Add(s);
            reasons.Add(new KeepReason(s, matches, new RemainingCounts(
                counters[0].Count, counters[1].Count, counters[2].Count, counters[3].Count, counters[4].Count, counters[5].Count)));
        }
        return new GroupPlan(key, keep, remove, reasons);
    }

    /// <summary>The newest snapshot time not after <paramref name="now"/>; null when every snapshot is in the future.</summary>
    private static DateTimeOffset? Latest(List<Snapshot> list, DateTimeOffset now)
    {
        DateTimeOffset? latest = null;
        foreach (var s in list)
            if (s.Time < now && (latest == null || s.Time > latest)) latest = s.Time;
        return latest;
    }

    // restic counts back from Go's zero time when no snapshot is in the past: then every snapshot is within.
    private static DateTimeOffset CutoffFrom(DateTimeOffset? latest, RetentionDuration within, TimeZoneInfo local) =>
        latest is { } l && !within.IsZero ? SnapshotCalendar.Cutoff(l, within, local) : DateTimeOffset.MinValue;
}
