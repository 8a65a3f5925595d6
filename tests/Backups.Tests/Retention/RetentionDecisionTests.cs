using Backups.Core.Retention;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Retention;

/// <summary>
/// The acceptance: our retention decisions (the engine's plan and `backup-agent forget --dry-run --json`) equal
/// `restic forget --dry-run --json` for the same policy on the same snapshots: the same groups, the same
/// snapshots kept (in order, for the same reasons, with the same counters) and removed.
/// </summary>
[Collection("retention")]
public sealed class RetentionDecisionTests(RetentionRepository repo)
{
    private sealed record Case(RetentionPolicy Policy, string GroupBy = "host,paths", string[]? Hosts = null, string[]? Tags = null, string[]? Paths = null);

    private static RetentionDuration D(string s) => RetentionDuration.Parse(s);
    private static TagList T(string s) => TagList.Parse(s);

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["last"] = new(new() { Last = 5 }),
        ["hourly"] = new(new() { Hourly = 10 }),
        ["daily"] = new(new() { Daily = 14 }),
        ["weekly"] = new(new() { Weekly = 30 }),
        ["monthly"] = new(new() { Monthly = 12 }),
        ["yearly"] = new(new() { Yearly = 3 }),
        ["every bucket"] = new(new() { Hourly = 1000, Monthly = 100, Yearly = 100 }),
        ["within months"] = new(new() { Within = D("2m") }),
        ["within all units"] = new(new() { Within = D("1y2m3d4h") }),
        ["within hours"] = new(new() { Within = D("36h") }),
        ["within a month at month ends and DST"] = new(new() { Within = D("1m") }),
        ["within a month and hours, one group"] = new(new() { Within = D("1m2h") }, GroupBy: ""),
        ["within-hourly"] = new(new() { WithinHourly = D("3d") }),
        ["within-daily"] = new(new() { WithinDaily = D("2m") }),
        ["within-weekly"] = new(new() { WithinWeekly = D("6m") }),
        ["within-monthly"] = new(new() { WithinMonthly = D("1y") }),
        ["within-yearly"] = new(new() { WithinYearly = D("10y") }),
        ["within variants together"] = new(new() { WithinMonthly = D("2y"), WithinWeekly = D("3m"), Within = D("5d") }),
        ["classic"] = new(new() { Daily = 7, Weekly = 5, Monthly = 12, Yearly = 10 }),
        ["counts and within"] = new(new() { Last = 3, Hourly = 24, Daily = 7, Within = D("10d") }),
        ["keep-tag"] = new(new() { KeepTags = [T("manual")] }),
        ["keep-tag with AND"] = new(new() { Last = 1, KeepTags = [T("daily,pg")] }),
        ["keep-tag empty means untagged"] = new(new() { Weekly = 2, KeepTags = [T("")] }),
        ["keep-tag repeated"] = new(new() { Monthly = 3, KeepTags = [T("pg"), T(" manual ")] }),
        ["group by host"] = new(new() { Daily = 10 }, GroupBy: "host"),
        ["group by tags"] = new(new() { Weekly = 4, Monthly = 6 }, GroupBy: "tags"),
        ["no grouping"] = new(new() { Last = 20, Daily = 30 }, GroupBy: ""),
        ["group by everything"] = new(new() { Hourly = 5, WithinDaily = D("1m") }, GroupBy: "host,paths,tags"),
        ["group by paths"] = new(new() { Yearly = 2, Within = D("3m") }, GroupBy: "path"),
        ["filter host"] = new(new() { Daily = 5 }, Hosts: ["db1"]),
        ["filter hosts"] = new(new() { Weekly = 3 }, Hosts: ["db1", "web"]),
        ["filter tag list"] = new(new() { Last = 2 }, Tags: ["daily,pg"]),
        ["filter tags"] = new(new() { Monthly = 2 }, Tags: ["manual", "pg"]),
        ["filter path"] = new(new() { Daily = 3 }, Paths: ["A"]),
        ["filter paths"] = new(new() { Last = 1 }, Paths: ["A", "B"]),
        ["empty policy"] = new(new()),
    };

    /// <summary>Also run through `backup-agent forget` (a process start each): one of each kind of flag.</summary>
    private static readonly HashSet<string> ThroughCli =
    [
        "classic", "every bucket", "within a month at month ends and DST", "within variants together", "keep-tag repeated",
        "keep-tag empty means untagged", "group by tags", "no grouping", "filter tag list", "filter paths", "empty policy",
    ];

    public static TheoryData<string> CaseNames => [.. Cases.Keys];

    [Fact]
    public void The_repository_is_large_and_varied()
    {
        Assert.True(repo.Snapshots.Count >= 300, $"{repo.Snapshots.Count} snapshots");
        Assert.True(repo.Snapshots.Count(s => s.Username != "backup") >= 10, $"real restic snapshots: {string.Join(",", repo.Snapshots.GroupBy(s => s.Username).Select(g => $"{g.Key}={g.Count()}"))}");
        Assert.True(repo.Snapshots.Select(s => s.Time.Offset).Distinct().Count() >= 4, "several UTC offsets");
        Assert.Contains(repo.Snapshots, s => s.Time > DateTimeOffset.Now);
        Assert.True(SnapshotGrouping.Default.Group(repo.Snapshots).Count >= 6);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Decisions_equal_restics(string name)
    {
        var c = Cases[name];
        var request = new ForgetRequest(c.Policy, SnapshotGrouping.Parse(c.GroupBy), new SnapshotFilter
        {
            Hosts = c.Hosts ?? [],
            Tags = (c.Tags ?? []).Select(TagList.Parse).ToList(),
            Paths = (c.Paths ?? []).Select(PathOf).ToList(),
        });
        List<string> args = ["forget", "--dry-run", "--json", .. Flags(c)];
        var restic = repo.Restic.RunAsync(["--no-lock", .. args]);
        var agent = ThroughCli.Contains(name) ? repo.Agent.RunAsync(args) : null;

        var expected = PlanText.FromJson((await restic).EnsureSuccess("restic forget").StdoutText);
        if (c.Policy.IsEmpty) Assert.Equal("", expected);
        else Assert.Contains("remove", expected);
        Assert.Equal(expected, PlanText.FromPlan(RetentionPlanner.Plan(repo.Snapshots, request, DateTimeOffset.Now, RetentionRepository.Zone)));
        if (agent != null) Assert.Equal(expected, PlanText.FromJson((await agent).EnsureSuccess("backup-agent forget").StdoutText));
    }

    private string PathOf(string p) => p == "A" ? repo.SourceA : repo.SourceB;

    /// <summary>The command line restic and backup-agent both take for a case.</summary>
    private IEnumerable<string> Flags(Case c)
    {
        var p = c.Policy;
        foreach (var (flag, n) in new[] { ("last", p.Last), ("hourly", p.Hourly), ("daily", p.Daily), ("weekly", p.Weekly), ("monthly", p.Monthly), ("yearly", p.Yearly) })
            if (n != 0) yield return $"--keep-{flag}={n}";
        foreach (var (flag, d) in new[] { ("", p.Within), ("-hourly", p.WithinHourly), ("-daily", p.WithinDaily), ("-weekly", p.WithinWeekly), ("-monthly", p.WithinMonthly), ("-yearly", p.WithinYearly) })
            if (!d.IsZero) yield return $"--keep-within{flag}={d}";
        foreach (var t in p.KeepTags) yield return $"--keep-tag={string.Join(',', t.Tags)}";
        yield return $"--group-by={c.GroupBy}";
        foreach (var h in c.Hosts ?? []) yield return $"--host={h}";
        foreach (var t in c.Tags ?? []) yield return $"--tag={t}";
        foreach (var path in c.Paths ?? []) yield return $"--path={PathOf(path)}";
    }
}
