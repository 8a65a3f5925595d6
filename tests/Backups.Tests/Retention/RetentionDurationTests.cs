using Backups.Core.Repositories;
using Backups.Core.Retention;
using Xunit;

namespace Backups.Tests.Retention;

/// <summary>restic's duration syntax, including its quirks (a repeated unit overrides, spaces around are ignored).</summary>
public sealed class RetentionDurationTests
{
    [Theory]
    [InlineData("2y5m7d3h", 2, 5, 7, 3, "2y5m7d3h")]
    [InlineData("3h1y", 1, 0, 0, 3, "1y3h")]
    [InlineData("1d2d", 0, 0, 2, 0, "2d")]
    [InlineData("  36h ", 0, 0, 0, 36, "36h")]
    [InlineData("", 0, 0, 0, 0, "")]
    [InlineData("0d", 0, 0, 0, 0, "")]
    public void Parses_as_restic(string text, int years, int months, int days, int hours, string printed)
    {
        var d = RetentionDuration.Parse(text);
        Assert.Equal(new RetentionDuration(years, months, days, hours), d);
        Assert.Equal(printed, d.ToString());
        Assert.Equal(printed == "", d.IsZero);
    }

    [Theory]
    [InlineData("5")]
    [InlineData("d")]
    [InlineData("1w")]
    [InlineData("1d 2h")]
    [InlineData("-1d")]
    [InlineData("99999999999h")]
    public void Refuses_what_restic_refuses_and_negatives(string text)
    {
        var e = Assert.Throws<RepositoryException>(() => RetentionDuration.Parse(text));
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
    }

    [Fact]
    public void A_policy_with_a_negative_count_is_refused()
    {
        var e = Assert.Throws<RepositoryException>(() => RetentionPlanner.Plan([], new ForgetRequest(new RetentionPolicy { Daily = -2 }),
            DateTimeOffset.Now, TimeZoneInfo.Utc));
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
    }
}
