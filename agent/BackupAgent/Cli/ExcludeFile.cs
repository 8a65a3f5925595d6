using System.Text.RegularExpressions;

namespace BackupAgent.Cli;

/// <summary>restic's --exclude-file: a pattern a line, trimmed; empty lines and lines starting with # skipped;
/// $NAME and ${NAME} replaced by the environment variable ($$ by $), as Go's os.Expand does.</summary>
public static partial class ExcludeFile
{
    public static List<string> Read(IEnumerable<string> files) => [.. files.SelectMany(Patterns)];

    private static IEnumerable<string> Patterns(string file)
    {
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"failed to read patterns from file {file}: {e.Message}");
        }
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line == "" || line.StartsWith('#')) continue;
            yield return Variable().Replace(line, m =>
            {
                var name = m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value;
                return name == "$" ? "$" : Environment.GetEnvironmentVariable(name) ?? "";
            });
        }
    }

    [GeneratedRegex(@"\$(?:\{([^}]*)\}|([A-Za-z0-9_]+|\$))")]
    private static partial Regex Variable();
}
