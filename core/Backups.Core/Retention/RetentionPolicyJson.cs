using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Backups.Core.Repositories;

namespace Backups.Core.Retention;

/// <summary>
/// A policy as JSON: one member per <see cref="RetentionRule"/> (<c>keepDaily</c>, <c>keepWithinWeekly</c>,
/// <c>keepTags</c>, ...; snake_case too, so the agent's snake_case result reaches the functions' camelCase input
/// unchanged through the workflow), counts as numbers or "unlimited", durations and tag lists as restic writes
/// them; or <c>{ "keep": "all" }</c>. Written in the document's own naming.
/// </summary>
public sealed class RetentionPolicyJson : JsonConverter<RetentionPolicy>
{
    private const string KeepMember = "keep";

    public override RetentionPolicy Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException("a retention policy is an object of keep rules");
        var policy = new RetentionPolicy();
        var keepAll = false;
        var seen = new HashSet<RetentionRule>();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var member = reader.GetString()!;
            reader.Read();
            if (member == KeepMember)
            {
                keepAll = reader.TokenType == JsonTokenType.String && reader.GetString() == "all"
                    ? true : throw new JsonException("keep: the only value is \"all\"");
                continue;
            }
            var rule = RetentionRule.All.FirstOrDefault(r => Names(r).Contains(member))
                       ?? throw new JsonException($"unknown keep rule '{member}' (known: {KeepMember}, {string.Join(", ", RetentionRule.All.Select(r => Camel(r)))})");
            if (!seen.Add(rule)) throw new JsonException($"{member}: given twice");
            try
            {
                foreach (var text in Texts(ref reader, rule, member)) policy = rule.Apply(policy, text, member);
            }
            catch (RepositoryException e) when (e.Kind == ErrorKind.InvalidArgument)
            {
                throw new JsonException(e.Message);
            }
        }
        if (!keepAll) return policy;
        return policy.IsEmpty ? RetentionPolicy.KeepAll
            : throw new JsonException("keep: \"all\" keeps every snapshot; leave out the other rules");
    }

    /// <summary>The value's restic text(s): a count may be a JSON number, a tag list rule takes an array.</summary>
    private static List<string> Texts(ref Utf8JsonReader reader, RetentionRule rule, string member)
    {
        switch (rule.Kind, reader.TokenType)
        {
            case (RetentionRuleKind.Count, JsonTokenType.Number):
                return [Encoding.UTF8.GetString(reader.ValueSpan)];
            case (RetentionRuleKind.Count or RetentionRuleKind.Duration, JsonTokenType.String):
                return [reader.GetString()!];
            case (RetentionRuleKind.TagList, JsonTokenType.StartArray):
                var lists = new List<string>();
                while (reader.Read() && reader.TokenType == JsonTokenType.String) lists.Add(reader.GetString()!);
                return reader.TokenType == JsonTokenType.EndArray ? lists : throw new JsonException($"{member}: each entry is a string such as \"a,b\"");
            default:
                throw new JsonException(rule.Kind switch
                {
                    RetentionRuleKind.Count => $"{member}: a whole number or \"unlimited\"",
                    RetentionRuleKind.Duration => $"{member}: a duration such as \"1y2m3d4h\"",
                    _ => $"{member}: a list of tag lists such as [\"a,b\"]",
                });
        }
    }

    public override void Write(Utf8JsonWriter writer, RetentionPolicy value, JsonSerializerOptions options)
    {
        var naming = options.PropertyNamingPolicy ?? JsonNamingPolicy.CamelCase;
        writer.WriteStartObject();
        foreach (var rule in RetentionRule.All)
        {
            var texts = rule.Texts(value).ToList();
            if (texts.Count == 0) continue;
            writer.WritePropertyName(naming.ConvertName(rule.Member));
            switch (rule.Kind)
            {
                case RetentionRuleKind.TagList:
                    writer.WriteStartArray();
                    foreach (var t in texts) writer.WriteStringValue(t);
                    writer.WriteEndArray();
                    break;
                case RetentionRuleKind.Count when texts[0] != "unlimited":
                    writer.WriteRawValue(texts[0]);
                    break;
                default:
                    writer.WriteStringValue(texts[0]);
                    break;
            }
        }
        writer.WriteEndObject();
    }

    private static string Camel(RetentionRule rule) => JsonNamingPolicy.CamelCase.ConvertName(rule.Member);

    private static string[] Names(RetentionRule rule) => [Camel(rule), JsonNamingPolicy.SnakeCaseLower.ConvertName(rule.Member)];
}
