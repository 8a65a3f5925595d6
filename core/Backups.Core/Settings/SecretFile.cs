using Backups.Core.Repositories;

namespace Backups.Core.Settings;

/// <summary>A secret kept in a file (the repository password, a config's <c>{"file": ...}</c>): the one place such a file is read.</summary>
public static class SecretFile
{
    /// <summary>Anything bigger is not a password: it is never read whole.</summary>
    private const int MaxBytes = 64 << 10;

    /// <summary>The file's text as restic reads a password file: a byte-order mark dropped, and the surrounding
    /// whitespace (the newline an editor or <c>echo</c> leaves) not part of the secret.</summary>
    /// <param name="what">How errors name the file, e.g. "the password file" (default: by its path alone).</param>
    /// <exception cref="RepositoryException">ConfigError: the file cannot be read, or is far too big.</exception>
    public static string Read(string path, string? what = null)
    {
        var named = what == null ? path : $"{what} {path}";
        try
        {
            using var file = File.OpenRead(path);
            if (file.Length > MaxBytes)
                throw new RepositoryException(ErrorKind.ConfigError, $"cannot read {named}: it is over {MaxBytes >> 10} KiB");
            using var reader = new StreamReader(file, detectEncodingFromByteOrderMarks: true);
            return reader.ReadToEnd().Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RepositoryException(ErrorKind.ConfigError, $"cannot read {named}: {e.Message}");
        }
    }
}
