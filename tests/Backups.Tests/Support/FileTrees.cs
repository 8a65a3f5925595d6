using System.Text;
using Backups.Core.FileSystem;

namespace Backups.Tests.Support;

/// <summary>File trees compared the way the file system holds them: names as bytes, with GNU tools as the judges.</summary>
public static class FileTrees
{
    /// <summary>A copy of a directory tree (a repository to change without touching the shared one); returns <paramref name="target"/>.</summary>
    public static string CopyDirectory(string source, string target)
    {
        foreach (var dir in Directory.EnumerateDirectories(source, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(target, Path.GetRelativePath(source, dir)));
        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(target, Path.GetRelativePath(source, file)));
        return target;
    }

    /// <summary>Creates a file whose name is any byte sequence (.NET's own file APIs cannot name one that is not UTF-8).</summary>
    public static void WriteFile(string dir, byte[] name, byte[] content)
    {
        using var parent = DirectoryHandle.Open(dir);
        using var file = parent.CreateFile(FileName.Decode(name));
        RandomAccess.Write(file, content, 0);
    }

    public static string Subdirectory(string dir, byte[] name)
    {
        using var parent = DirectoryHandle.Open(dir);
        using (parent.CreateDirectory(FileName.Decode(name))) { }
        return Path.Combine(dir, FileName.Decode(name));
    }

    /// <summary>Fails unless `diff -r --no-dereference` finds both trees identical: the same names (as bytes), types,
    /// contents and symlink targets. diff calls any two FIFOs different: name them in <paramref name="skip"/>.</summary>
    public static async Task AssertSameAsync(string expected, string actual, params string[] skip)
    {
        var r = await Processes.RunAsync("diff", ["-r", "--no-dereference", .. skip.Select(s => $"--exclude={s}"), expected, actual]);
        if (r.ExitCode != 0) throw new Xunit.Sdk.XunitException($"the trees differ:\n{r.StdoutText}{r.Stderr}");
    }

    /// <summary>Every path below a directory as find(1) prints it (raw bytes), relative to it and sorted.</summary>
    public static async Task<List<string>> ListAsync(string dir)
    {
        var r = (await Processes.RunAsync("find", [".", "-mindepth", "1", "-print0"], workingDirectory: dir)).EnsureSuccess("find");
        return Split(r.Stdout, 0).Select(p => p[1..]).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The parts of a program's output between separators, each as a <see cref="FileName"/> string.</summary>
    public static List<string> Split(byte[] output, byte separator)
    {
        var parts = new List<string>();
        var start = 0;
        for (var i = 0; i < output.Length; i++)
            if (output[i] == separator)
            {
                parts.Add(FileName.Decode(output.AsSpan(start, i - start)));
                start = i + 1;
            }
        if (start < output.Length) parts.Add(FileName.Decode(output.AsSpan(start)));
        return parts;
    }

    public static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);
}
