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

/// <summary>Snapshot times: Go's RFC 3339 text through <see cref="Timestamp"/>, kept to .NET's 100 ns.</summary>
public static class GoTime
{
    public static string Format(DateTimeOffset t) => Timestamp.FromDateTimeOffset(t).ToString();

    public static DateTimeOffset Parse(string s) => Timestamp.Parse(s).ToDateTimeOffset();
}
