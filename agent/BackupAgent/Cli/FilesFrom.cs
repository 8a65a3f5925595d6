using System.Text;
using Backups.Core.Filtering;

namespace BackupAgent.Cli;

/// <summary>
/// restic's --files-from (a path or glob a line, trimmed; empty lines and lines starting with # skipped; a glob
/// that matches nothing is a warning), --files-from-verbatim (a path a line, as written) and --files-from-raw
/// (paths ended by NUL bytes). "-" reads standard input.
/// </summary>
public static class FilesFrom
{
    public static List<string> Read(Arguments args, Action<string> warn)
    {
        var targets = new List<string>();
        foreach (var file in args.Values("files-from"))
            foreach (var raw in Lines(Text(file, "--files-from")))
            {
                var line = raw.Trim();
                if (line == "" || line[0] == '#') continue;
                List<string> expanded;
                try
                {
                    expanded = GoFileGlob.Expand(line);
                }
                catch (ArgumentException e)
                {
                    throw new UsageException($"--files-from {file}: pattern: {line}: {e.Message}");
                }
                if (expanded.Count == 0) warn($"pattern \"{line}\" does not match any files, skipping");
                targets.AddRange(expanded);
            }
        foreach (var file in args.Values("files-from-verbatim"))
            targets.AddRange(Lines(Text(file, "--files-from-verbatim")).Where(l => l != ""));
        foreach (var file in args.Values("files-from-raw"))
        {
            var text = Text(file, "--files-from-raw");
            if (text == "") continue;
            if (!text.EndsWith('\0')) throw new UsageException($"--files-from-raw {file}: trailing zero byte missing");
            var names = text[..^1].Split('\0');
            if (names.Any(n => n == "")) throw new UsageException($"--files-from-raw {file}: empty filename in listing");
            targets.AddRange(names);
        }
        return targets;
    }

    /// <summary>Whether standard input is one of the lists (it cannot then also give the password or the data).</summary>
    public static bool ReadsStdin(Arguments args) =>
        args.Values("files-from").Concat(args.Values("files-from-verbatim")).Concat(args.Values("files-from-raw")).Contains("-");

    public static bool Any(Arguments args) =>
        args.Values("files-from").Count + args.Values("files-from-verbatim").Count + args.Values("files-from-raw").Count > 0;

    /// <summary>Go's bufio line scanning: split at \n, a \r before it dropped, no empty last line.</summary>
    private static IEnumerable<string> Lines(string text)
    {
        var lines = text.Split('\n');
        var count = text.EndsWith('\n') ? lines.Length - 1 : lines.Length;
        return lines.Take(count).Select(l => l.EndsWith('\r') ? l[..^1] : l);
    }

    private static string Text(string file, string flag)
    {
        try
        {
            if (file == "-") return Console.In.ReadToEnd();
            // restic's textfile.Read: a UTF-8 byte order mark is dropped.
            return new UTF8Encoding(false).GetString(File.ReadAllBytes(file)).TrimStart('\uFEFF');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{flag}: cannot read {file}: {e.Message}");
        }
    }
}
