using System.Collections.Concurrent;
using System.Text;
using Backups.Core.FileSystem;

namespace Backups.Core.Filtering;

/// <summary>
/// restic's --exclude-if-present NAME[:HEADER]: everything in a directory that holds a file NAME (starting with
/// HEADER, when given) is left out except that file, so the directory stays, holding only its tag.
/// --exclude-caches is the Cache Directory Tagging Standard's CACHEDIR.TAG with its signature.
/// </summary>
public sealed class TagFile
{
    public static readonly TagFile CacheDirectory = new("CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55");

    private readonly ConcurrentDictionary<string, bool> _taggedDirectories = new(StringComparer.Ordinal);

    private TagFile(string name, string header)
    {
        Name = name;
        Header = header;
    }

    public string Name { get; }
    public string Header { get; }

    /// <exception cref="ArgumentException">The spec names no file.</exception>
    public static TagFile Parse(string spec)
    {
        if (spec == "") throw new ArgumentException("name for exclusion tagfile is empty");
        var colon = spec.IndexOf(':');
        if (colon == 0) throw new ArgumentException("no name for exclusion tagfile provided");
        return colon > 0 ? new TagFile(spec[..colon], spec[(colon + 1)..]) : new TagFile(spec, "");
    }

    /// <summary>Whether the entry at the clean absolute path is in a tagged directory (the tag file itself is kept).</summary>
    public bool Excludes(string path)
    {
        var slash = path.LastIndexOf('/');
        if (path[(slash + 1)..] == Name) return false;
        var directory = path[..(slash + 1)];
        return _taggedDirectories.GetOrAdd(directory, IsTagged);
    }

    /// <summary>A tag file that cannot be read, or whose header differs, tags nothing (restic warns and backs up).</summary>
    private bool IsTagged(string directory)
    {
        var tag = directory + Name;
        try
        {
            FileStat.Lstat(tag);
        }
        catch (IOException)
        {
            return false;
        }
        if (Header.Length == 0) return true;
        var expected = Encoding.UTF8.GetBytes(Header);
        try
        {
            using var file = File.OpenRead(tag);
            var start = new byte[expected.Length];
            return file.ReadAtLeast(start, start.Length, throwOnEndOfStream: false) == start.Length && start.AsSpan().SequenceEqual(expected);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
