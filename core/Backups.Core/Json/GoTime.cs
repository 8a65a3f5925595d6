using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Backups.Core.Json;

/// <summary>
/// Times as Go's encoding/json writes them (RFC 3339 with up to nine fractional digits). .NET keeps 100 ns
/// ticks, so digits beyond the seventh are dropped on read.
/// </summary>
public sealed class GoTimeConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        GoTime.Parse(reader.GetString() ?? throw new JsonException("time is null"));

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(GoTime.Format(value));
}

public static class GoTime
{
    public static string Format(DateTimeOffset t) =>
        t.Offset == TimeSpan.Zero
            ? t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture)
            : t.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz", CultureInfo.InvariantCulture);

    public static DateTimeOffset Parse(string s)
    {
        var dot = s.IndexOf('.', 19);
        if (dot > 0)
        {
            var end = dot + 1;
            while (end < s.Length && char.IsAsciiDigit(s[end])) end++;
            if (end - dot - 1 > 7) s = string.Concat(s.AsSpan(0, dot + 8), s.AsSpan(end));
        }
        if (!DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var t))
            throw new JsonException($"'{s}' is not an RFC 3339 time");
        return t;
    }
}
