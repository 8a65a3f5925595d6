using Backups.Core;
using Backups.Core.Retention;
using Backups.Core.Snapshots;
using Xunit;

namespace Backups.Tests.Retention;

/// <summary>The Retention step's per-source planning never forgets a cluster's WAL snapshots: a keep rule would
/// leave one batch a day and break the chain that point-in-time recovery replays.</summary>
public sealed class WalRetentionTests
{
    private static Snapshot Make(int hour, params string[] tags) => new()
    {
        Id = Id.Random(), Tree = Id.Random(), Time = new DateTimeOffset(2026, 12, 1, hour, 0, 0, TimeSpan.Zero),
        Hostname = "box", Paths = ["/cluster"], Tags = [.. tags],
    };

    [Fact]
    public void The_retention_step_keeps_every_wal_snapshot_and_applies_the_policy_to_base_backups()
    {
        var bases = Enumerable.Range(0, 3).Select(h => Make(h, "cluster", "pg-base")).ToList();
        var wal = Enumerable.Range(3, 6).Select(h => Make(h, "cluster", "wal")).ToList();
        var request = new ForgetRequest(new RetentionPolicy { Last = 1 }) { BySource = SourcePolicies.None };

        var plan = RetentionPlanner.Plan([.. bases, .. wal], request, DateTimeOffset.Now, TimeZoneInfo.Utc);

        Assert.Equal(bases.Take(2).Select(s => s.Id).Order(), plan.Removed.Select(s => s.Id).Order());
        Assert.All(wal, w => Assert.DoesNotContain(w, plan.Removed));
    }
}
