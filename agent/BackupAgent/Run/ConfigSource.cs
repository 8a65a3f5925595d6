using System.Text.Json;

namespace BackupAgent.Run;

/// <summary>A config file's name and the places of its values: turns a problem at a JSON path into one line that
/// also names the file, the line and the column.</summary>
public sealed class ConfigSource(string path, ConfigLocations locations)
{
    public string Path { get; } = path;
    public ConfigLocations Locations { get; } = locations;

    /// <summary>Reads the file as JSON (comments and trailing commas allowed, as the loader allows them); a syntax
    /// error is reported where the parser stopped.</summary>
    public static ConfigSource Parse(string path, byte[] bytes)
    {
        if (bytes.All(b => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            throw new ConfigException("$", "the file is empty: expected an object with repository, password and sources", path);
        try
        {
            using var _ = JsonDocument.Parse(bytes, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line ? $"{path}:{line + 1}:{(e.BytePositionInLine ?? 0) + 1}" : path;
            throw new ConfigException("$", $"not valid JSON: {ConfigErrors.WithoutPosition(e.Message)}", where);
        }
        return new ConfigSource(path, new ConfigLocations(bytes));
    }

    public ConfigException Locate(ConfigException e) =>
        Locations.Find(e.Path) is { } at ? new ConfigException(e.Path, e.Problem, $"{Path}:{at.Line}:{at.Column}") : new ConfigException(e.Path, e.Problem, Path);
}
