using System.Text;
using System.Text.Json;

namespace BackupAgent.Run;

/// <summary>
/// Where each value of a JSON document starts, by its JSON path ("$.sources[1].kind"), as 1-based line and column,
/// so that a config error can point at the line a person has to edit.
/// </summary>
public sealed class ConfigLocations
{
    private readonly Dictionary<string, (int Line, int Column, string Shown)> _values = new(StringComparer.Ordinal);

    /// <summary>Reads a document that is known to parse.</summary>
    public ConfigLocations(byte[] json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        // Each open container: its path and, for arrays, the next index.
        var stack = new Stack<(string Path, int Index)>();
        string? property = null;
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName)
            {
                property = reader.GetString();
                continue;
            }
            if (reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray)
            {
                stack.Pop();
                continue;
            }
            string path;
            if (stack.Count == 0) path = "$";
            else if (property != null) path = $"{stack.Peek().Path}.{property}";
            else
            {
                var (parent, index) = stack.Pop();
                stack.Push((parent, index + 1));
                path = $"{parent}[{index}]";
            }
            property = null;
            var (line, column) = Position(json, (int)reader.TokenStartIndex);
            var shown = reader.TokenType switch
            {
                JsonTokenType.StartObject => "an object",
                JsonTokenType.StartArray => "a list",
                JsonTokenType.String => $"\"{Encoding.UTF8.GetString(reader.ValueSpan)}\"",
                _ => Encoding.UTF8.GetString(reader.ValueSpan),
            };
            _values.TryAdd(path, (line, column, shown));
            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) stack.Push((path, 0));
        }
    }

    /// <summary>Line and column of the value at the path, or of the nearest enclosing value there is (a missing
    /// field points at the object that lacks it).</summary>
    public (int Line, int Column)? Find(string path)
    {
        for (var p = path; p.Length > 0; p = Parent(p))
            if (_values.TryGetValue(p, out var v)) return (v.Line, v.Column);
        return null;
    }

    /// <summary>The value at the path as a person reads it ("mysql" with its quotes, 3, true, an object, a list), or null.</summary>
    public string? Shown(string path) => _values.TryGetValue(path, out var v) ? v.Shown : null;

    private static string Parent(string path)
    {
        var cut = Math.Max(path.LastIndexOf('.'), path.LastIndexOf('['));
        return cut <= 0 ? "" : path[..cut];
    }

    public static (int Line, int Column) Position(byte[] json, int offset)
    {
        int line = 1, start = 0;
        for (var i = 0; i < offset && i < json.Length; i++)
            if (json[i] == '\n')
            {
                line++;
                start = i + 1;
            }
        return (line, Encoding.UTF8.GetCharCount(json, start, Math.Min(offset, json.Length) - start) + 1);
    }
}
