using BackupAgent.Drills;
using Xunit;

namespace Backups.Tests.Drills;

/// <summary>How recorded counts meet restored ones: the tolerance, missing and unexpected entries.</summary>
public sealed class CountComparisonTests
{
    private static Dictionary<string, bool> Compare(Dictionary<string, long> recorded, Dictionary<string, long> restored, double tolerance, bool absentIsZero)
    {
        var drill = new SourceDrill();
        drill.CompareCounts("rows", recorded, restored, tolerance, absentIsZero);
        return drill.Checks.ToDictionary(c => c.Name, c => c.Passed);
    }

    [Fact]
    public void A_difference_passes_only_within_the_tolerance()
    {
        Dictionary<string, long> recorded = new() { ["public.orders"] = 1000 }, restored = new() { ["public.orders"] = 990 };
        Assert.True(Compare(recorded, restored, 1, false)["rows public.orders"]);
        Assert.False(Compare(recorded, restored, 0.5, false)["rows public.orders"]);
        Assert.False(Compare(recorded, restored, 0, false)["rows public.orders"]);
    }

    [Fact]
    public void Missing_and_unexpected_tables_fail_but_empty_redis_databases_do_not()
    {
        var checks = Compare(new() { ["public.a"] = 5, ["public.b"] = 0 }, new() { ["public.b"] = 0, ["public.c"] = 1 }, 100, absentIsZero: false);
        Assert.Equal(new Dictionary<string, bool> { ["rows public.a"] = false, ["rows public.b"] = true, ["rows public.c"] = false }, checks);

        var keys = Compare(new() { ["db0"] = 10, ["db1"] = 0 }, new() { ["db0"] = 10 }, 0, absentIsZero: true);
        Assert.All(keys.Values, Assert.True);
    }

    [Fact]
    public void The_first_failure_becomes_the_one_line_error()
    {
        var drill = new SourceDrill();
        drill.CompareCounts("keys", new Dictionary<string, long> { ["db0"] = 2000 }, new Dictionary<string, long> { ["db0"] = 1000 }, 10, true);
        Assert.Equal("keys db0: 1000 instead of 2000 (more than 10% off)", drill.Error);
    }
}
