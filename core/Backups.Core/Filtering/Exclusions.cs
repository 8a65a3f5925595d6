using Backups.Core.FileSystem;

namespace Backups.Core.Filtering;

/// <summary>
/// What a paths backup leaves out, by restic's rules: by name before an entry is looked at (--exclude patterns,
/// --iexclude patterns regardless of case, a tag file beside it), then by what its stat says (another file
/// system, with --one-file-system). Targets are judged like every entry below them, as restic judges them.
/// </summary>
public sealed class Exclusions
{
    public static readonly Exclusions None = new();

    public IReadOnlyList<PathPattern> Patterns { get; init; } = [];

    /// <summary>Matched against the lower-cased path (restic lower-cases both pattern and path).</summary>
    public IReadOnlyList<PathPattern> InsensitivePatterns { get; init; } = [];

    public IReadOnlyList<TagFile> TagFiles { get; init; } = [];

    /// <summary>The file systems of the targets, with --one-file-system.</summary>
    public FileSystems? OneFileSystem { get; init; }

    /// <summary>Case-sensitive patterns only, as a nightly run's source gives them.</summary>
    public static Exclusions Of(IReadOnlyList<PathPattern> patterns) => new() { Patterns = patterns };

    /// <summary>--iexclude's patterns, lower-cased as restic lower-cases them.</summary>
    public static List<PathPattern> Insensitive(IEnumerable<string> patterns) =>
        [.. patterns.Select(p => new PathPattern(p.ToLowerInvariant()))];

    /// <summary>Whether the clean absolute path is left out by its name alone.</summary>
    public bool ExcludesByName(string path) =>
        Patterns.Any(p => p.Matches(path))
        || (InsensitivePatterns.Count > 0 && InsensitivePatterns.Any(p => p.Matches(path.ToLowerInvariant())))
        || TagFiles.Any(t => t.Excludes(path));

    /// <summary>Whether the entry is left out for what it is (lstat'ed).</summary>
    public bool ExcludesByStat(string path, FileStat stat) => OneFileSystem?.Excludes(path, stat) ?? false;
}
