using System.Security.Cryptography;
using Backups.Core;
using Backups.Core.Backends;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Errors;

/// <summary>
/// The bytes a repository holds, seen as files: every file under its directory (a local repository's folder,
/// or s3rver's data folder for an S3 prefix) with the SHA-256 of its contents.
/// </summary>
public static class RepositoryFiles
{
    /// <summary>Relative path → SHA-256 of every file below <paramref name="dir"/> (temp and dot files included);
    /// empty when the directory does not exist.</summary>
    public static SortedDictionary<string, string> Snapshot(string dir)
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (!Directory.Exists(dir)) return files;
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 };
        foreach (var file in Directory.EnumerateFiles(dir, "*", options))
            files[Path.GetRelativePath(dir, file)] = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file)));
        return files;
    }

    public static void AssertUnchanged(SortedDictionary<string, string> before, string dir) =>
        Assert.Equal(before, Snapshot(dir));

    /// <summary>The id-named files of one folder (locks, snapshots, index...) of a local repository.</summary>
    public static List<string> Ids(string repository, string folder)
    {
        var dir = Path.Combine(repository, folder);
        return Directory.Exists(dir)
            ? Directory.EnumerateFiles(dir).Select(Path.GetFileName).Where(n => Id.TryParse(n!, out _)).Select(n => n!).ToList()
            : [];
    }

    /// <summary>Where s3rver keeps the objects of an S3 repository (s3:https://host/bucket/prefix).</summary>
    public static string S3Directory(S3rverFixture s3, string repository)
    {
        var location = (S3RepositoryLocation)RepositoryLocation.Parse(repository);
        return Path.Combine([s3.DataDirectory, location.Bucket, .. location.Prefix.Split('/', StringSplitOptions.RemoveEmptyEntries)]);
    }

    /// <summary>Flips bits of one byte of a file in place.</summary>
    public static void FlipByte(string path, long offset, byte mask = 0x01)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        f.Position = offset;
        var b = f.ReadByte();
        Assert.True(b >= 0, $"{path} has no byte at {offset}");
        f.Position = offset;
        f.WriteByte((byte)(b ^ mask));
    }
}
