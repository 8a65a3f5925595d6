using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using BackupAgent.Drills;
using Backups.Aws.Secrets;

namespace BackupAgent.Run;

/// <summary>
/// System.Text.Json's complaints about a config, said in the config's own terms: the field's JSON path, what was
/// expected (the allowed values of a choice, a did-you-mean for a misspelled field), never a .NET type name.
/// </summary>
public static partial class ConfigErrors
{
    [GeneratedRegex("The JSON property '(?<field>.*)' could not be mapped to any .NET member contained in type '(?<type>[^']+)'")]
    private static partial Regex Unmapped();

    [GeneratedRegex("could not be converted to (?<type>[^ ]+?)\\.?( Path:|$)")]
    private static partial Regex NotConverted();

    /// <summary>The objects of a config and the fields each takes, by the .NET type name the serializer reports.</summary>
    private static readonly Dictionary<string, JsonTypeInfo> Objects = new[]
    {
        (JsonTypeInfo)RunJsonContext.Default.RunConfig, RunJsonContext.Default.SourceConfig, RunJsonContext.Default.SecretRef,
        RunJsonContext.Default.DrillConfig, RunJsonContext.Default.SqlCheck,
    }.ToDictionary(t => t.Type.FullName!);

    private const string SecretForms = "{\"env\": \"VAR\"}, {\"file\": \"/path\"}, {\"ssm\": \"/name\"} or {\"value\": \"...\"}";

    public static ConfigException Translate(JsonException e, ConfigLocations locations)
    {
        var path = e.Path ?? "$";
        if (Unmapped().Match(e.Message) is { Success: true } unmapped)
        {
            var field = unmapped.Groups["field"].Value;
            var known = Objects.TryGetValue(unmapped.Groups["type"].Value, out var info) ? info.Properties.Select(p => p.Name).ToList() : [];
            var guess = known.MinBy(k => Distance(k, field));
            var hint = guess != null && Distance(guess, field) <= Math.Max(2, field.Length / 3)
                ? $"did you mean '{guess}'?"
                : $"expected one of {string.Join(", ", known)}";
            // The serializer names the object or the field itself, depending on where it stopped.
            var at = path.EndsWith("." + field, StringComparison.Ordinal) ? path : $"{path}.{field}";
            return new ConfigException(at, $"unknown field '{field}'; {hint}");
        }
        if (NotConverted().Match(e.Message) is { Success: true } converted)
        {
            var actual = locations.Shown(path);
            return new ConfigException(path, $"expected {Expected(converted.Groups["type"].Value)}" + (actual == null ? "" : $", not {actual}"));
        }
        return new ConfigException(path, $"cannot be read: {WithoutPosition(e.Message)}");
    }

    /// <summary>What a person should write where the serializer wanted the given .NET type.</summary>
    private static string Expected(string type) => type switch
    {
        _ when type.Contains(nameof(SourceKind)) => $"one of {Names(RunJsonContext.Default.SourceKind)}",
        _ when type.Contains(nameof(DrillTarget)) => $"one of {Names(RunJsonContext.Default.DrillTarget)}",
        _ when type.Contains("List`1[System.String]") => "a list of strings, [\"...\", ...]",
        _ when type.Contains("List`1[" + typeof(SourceConfig).FullName) => "a list of sources, [{\"name\": ..., \"kind\": ...}, ...]",
        _ when type.Contains("List`1[" + typeof(SqlCheck).FullName) => "a list of checks, [{\"name\": ..., \"sql\": ..., \"min\": ...}, ...]",
        _ when type.Contains(nameof(SecretRef)) => $"a secret: {SecretForms}",
        _ when type.Contains("Int32") || type.Contains("Int64") => "a whole number",
        _ when type.Contains("Double") => "a number",
        _ when type.Contains("Boolean") => "true or false",
        _ when type.Contains("String") => "a string",
        _ => "an object, {...}",
    };

    // Choices are read case-insensitively; they are shown as the README writes them.
    private static string Names<T>(JsonTypeInfo<T> info) where T : struct, Enum =>
        string.Join(", ", Enum.GetValues<T>().Select(v => JsonSerializer.Serialize(v, info).Trim('"').ToLowerInvariant()));

    /// <summary>A System.Text.Json message without its trailing " Path: ... | LineNumber: ..." (said elsewhere).</summary>
    public static string WithoutPosition(string message)
    {
        foreach (var cut in new[] { " Path:", " LineNumber:" })
            if (message.IndexOf(cut, StringComparison.Ordinal) is var i and >= 0) message = message[..i];
        return message.TrimEnd();
    }

    /// <summary>Levenshtein distance, ignoring case: how far a typo is from a field name.</summary>
    private static int Distance(string a, string b)
    {
        a = a.ToLowerInvariant();
        b = b.ToLowerInvariant();
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var diagonal = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }
}
