using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Backups.Core.Json;

/// <summary>
/// A file time to the nanosecond, with the UTC offset it was written in, as Go's time.Time keeps it for
/// restic's tree nodes. DateTimeOffset stops at 100 ns, which would change restored mtimes.
/// </summary>
[JsonConverter(typeof(TimestampJsonConverter))]
public readonly record struct Timestamp(long UnixSeconds, int Nanoseconds, int OffsetMinutes = 0)
{
    public static Timestamp FromDateTimeOffset(DateTimeOffset t)
    {
        var ticks = t.UtcTicks - DateTime.UnixEpoch.Ticks;
        var seconds = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out var rem);
        if (rem < 0) { seconds--; rem += TimeSpan.TicksPerSecond; }
        return new Timestamp(seconds, (int)rem * 100, (int)t.Offset.TotalMinutes);
    }

    public DateTimeOffset ToDateTimeOffset() =>
        new DateTimeOffset(DateTime.UnixEpoch.AddTicks(UnixSeconds * TimeSpan.TicksPerSecond + Nanoseconds / 100), TimeSpan.Zero)
            .ToOffset(TimeSpan.FromMinutes(OffsetMinutes));

    /// <summary>RFC 3339 with up to nine fractional digits, trailing zeros trimmed (Go's RFC3339Nano).</summary>
    public override string ToString()
    {
        var local = DateTime.UnixEpoch.AddSeconds(UnixSeconds).AddMinutes(OffsetMinutes);
        var text = local.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        if (Nanoseconds != 0) text += "." + Nanoseconds.ToString("D9", CultureInfo.InvariantCulture).TrimEnd('0');
        if (OffsetMinutes == 0) return text + "Z";
        var offset = TimeSpan.FromMinutes(Math.Abs(OffsetMinutes));
        return $"{text}{(OffsetMinutes < 0 ? '-' : '+')}{offset.Hours:D2}:{offset.Minutes:D2}";
    }

    public static Timestamp Parse(string s)
    {
        // The fraction is read by hand (up to nine digits); the rest by the framework.
        var nanos = 0;
        var dot = s.Length > 19 && s[19] == '.' ? 19 : -1;
        var withoutFraction = s;
        if (dot > 0)
        {
            var end = dot + 1;
            while (end < s.Length && char.IsAsciiDigit(s[end])) end++;
            var digits = s[(dot + 1)..end];
            if (digits.Length is 0 or > 9) throw new JsonException($"'{s}' is not an RFC 3339 time");
            nanos = int.Parse(digits.PadRight(9, '0'), CultureInfo.InvariantCulture);
            withoutFraction = s[..dot] + s[end..];
        }
        if (!DateTimeOffset.TryParse(withoutFraction, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var t))
            throw new JsonException($"'{s}' is not an RFC 3339 time");
        return new Timestamp(t.ToUnixTimeSeconds(), nanos, (int)t.Offset.TotalMinutes);
    }
}

public sealed class TimestampJsonConverter : JsonConverter<Timestamp>
{
    public override Timestamp Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        Timestamp.Parse(reader.GetString() ?? throw new JsonException("time is null"));

    public override void Write(Utf8JsonWriter writer, Timestamp value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString());
}
