using Backups.Core.Json;
using Xunit;

namespace Backups.Tests.Json;

public sealed class TimestampTests
{
    [Theory]
    [InlineData("2021-03-04T05:06:07.123456789Z")]
    [InlineData("2021-03-04T05:06:07Z")]
    [InlineData("2021-03-04T06:06:07.1+01:00")]
    [InlineData("1969-12-31T23:59:59.999999999-05:30")]
    public void Round_trips_go_times_exactly(string text) => Assert.Equal(text, Timestamp.Parse(text).ToString());

    [Fact]
    public void Keeps_nanoseconds_and_the_instant()
    {
        var t = Timestamp.Parse("2021-03-04T06:06:07.123456789+01:00");
        Assert.Equal(123456789, t.Nanoseconds);
        Assert.Equal(new DateTimeOffset(2021, 3, 4, 5, 6, 7, TimeSpan.Zero).ToUnixTimeSeconds(), t.UnixSeconds);
    }

    [Fact]
    public void Reads_more_digits_than_dotnet_keeps_in_snapshot_times() =>
        Assert.Equal(new DateTimeOffset(2021, 3, 4, 5, 6, 7, TimeSpan.Zero).AddTicks(1234567), GoTime.Parse("2021-03-04T05:06:07.123456789Z"));
}
