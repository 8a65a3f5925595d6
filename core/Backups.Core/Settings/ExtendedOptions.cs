using System.Globalization;
using Backups.Core.Repositories;

namespace Backups.Core.Settings;

/// <summary>
/// restic's extended options, `key=value` as `-o` takes them, of which this program knows s3.connections. restic
/// quietly ignores options of another backend's namespace; every key unknown here is refused instead, so that a
/// misspelt option (or one of restic's that we lack) never passes for having taken effect.
/// </summary>
public sealed record ExtendedOptions
{
    public const string S3ConnectionsKey = "s3.connections";

    /// <summary>Our own variable for what restic only takes as `-o` (the functions have no command line):
    /// space-separated key=value pairs; `-o` wins over it key by key.</summary>
    public const string Variable = "BACKUP_OPTIONS";

    public static readonly ExtendedOptions None = new();

    /// <summary>How many requests an S3 store is sent at once; null: <see cref="Backends.S3Backend.DefaultConnections"/>.</summary>
    public int? S3Connections { get; init; }

    /// <summary>These options with <paramref name="pairs"/> applied over them, keys and values trimmed and keys
    /// lower-cased, as restic reads them.</summary>
    /// <exception cref="RepositoryException">ConfigError: an unknown key, a bad value, or one key given two values.</exception>
    public ExtendedOptions With(IEnumerable<string> pairs)
    {
        var result = this;
        var given = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var eq = pair.IndexOf('=');
            var key = (eq < 0 ? pair : pair[..eq]).Trim().ToLowerInvariant();
            var value = eq < 0 ? "" : pair[(eq + 1)..].Trim();
            if (key.Length == 0) throw Invalid($"'{pair}' names no option (write key=value, e.g. {S3ConnectionsKey}=8)");
            if (given.TryGetValue(key, out var earlier) && earlier != value)
                throw Invalid($"option {key} is given twice, as '{earlier}' and '{value}'");
            given[key] = value;
            result = key switch
            {
                S3ConnectionsKey => result with { S3Connections = Count(key, value) },
                _ => throw Invalid($"option {key} is not known (known: {S3ConnectionsKey})"),
            };
        }
        return result;
    }

    /// <summary><see cref="Variable"/>'s pairs.</summary>
    public static IEnumerable<string> FromVariable(IReadOnlyDictionary<string, string> environment) =>
        environment.GetValueOrDefault(Variable)?.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries) ?? [];

    private static int Count(string key, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1
            ? n : throw Invalid($"option {key} needs a whole number of at least 1, not '{value}'");

    private static RepositoryException Invalid(string message) => new(ErrorKind.ConfigError, message);
}
