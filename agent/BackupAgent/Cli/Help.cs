using Backups.Core;

namespace BackupAgent.Cli;

/// <summary>
/// The help texts, built from the flag tables the parser uses (<see cref="Command.Flags"/>, <see cref="GlobalOptions.Flags"/>),
/// so that a flag a command accepts is a flag its help describes. Help is what was asked for, so it goes to stdout
/// (as restic's does). No line is longer than <see cref="Width"/>.
/// </summary>
public static class Help
{
    public const int Width = 100;

    /// <summary>Where descriptions start; a longer flag puts its description on the next line.</summary>
    private const int DescriptionColumn = 34;

    /// <summary>`--help` or `-h` before any bare `--` (after it, the words belong to a source command).</summary>
    public static bool IsRequested(IReadOnlyList<string> args) =>
        args.TakeWhile(a => a != "--").Any(a => a is "--help" or "-h");

    public static string Program(IEnumerable<Command> commands)
    {
        var list = commands.ToList();
        var lines = new List<string> { $"usage: {ProgramInfo.Name} [global flags] COMMAND [flags] [args]", "", "Commands:" };
        lines.AddRange(list.SelectMany(c => Entry("  " + c.Name, Describe(c).Summary, 14)));
        lines.Add("");
        lines.AddRange(GlobalFlags());
        lines.AddRange(["", "Environment:"]);
        lines.AddRange(EnvironmentVariables.All.SelectMany(v => Entry("  " + v.Name, v.Meaning, DescriptionColumn)));
        lines.AddRange(["", "Exit codes:"]);
        lines.AddRange(ExitCodes.Meanings.SelectMany(c => Entry($"  {c.Code,3}", Plain(c.Meaning), 7)));
        lines.AddRange(["", $"'{ProgramInfo.Name} COMMAND --help' shows a command's flags."]);
        return string.Join('\n', lines) + "\n";
    }

    public static string For(Command command)
    {
        var (synopsis, summary) = Describe(command);
        var lines = Wrap("", $"usage: {ProgramInfo.Name} [global flags] {synopsis}", "    ").ToList();
        if (summary != "") lines.AddRange(["", .. Wrap("", Capitalized(summary) + ".", "")]);
        if (command.Flags.Count > 0) lines.AddRange(["", "Flags:", .. FlagLines(command.Flags)]);
        lines.Add("");
        lines.AddRange(GlobalFlags());
        lines.AddRange(["", $"'{ProgramInfo.Name} --help' lists the environment variables and exit codes."]);
        return string.Join('\n', lines) + "\n";
    }

    /// <summary>A command's usage reads "synopsis: what it does".</summary>
    public static (string Synopsis, string Summary) Describe(Command command)
    {
        var colon = command.Usage.IndexOf(": ", StringComparison.Ordinal);
        return colon < 0 ? (command.Usage, "") : (command.Usage[..colon], command.Usage[(colon + 2)..]);
    }

    /// <summary>How a flag is written in help and man pages: "-r, --repo REPOSITORY".</summary>
    public static string Spelling(Flag f) => $"{(f.Short == null ? "" : $"-{f.Short}, ")}--{f.Name}{(f.TakesValue ? " " + f.Value : "")}";

    /// <summary>README's and the man page's backquotes are not for a terminal.</summary>
    public static string Plain(string text) => text.Replace("`", "");

    private static IEnumerable<string> GlobalFlags() => ["Global flags:", .. FlagLines(GlobalOptions.Flags)];

    private static IEnumerable<string> FlagLines(IEnumerable<Flag> flags) =>
        flags.OrderBy(f => f.Name, StringComparer.Ordinal)
            .SelectMany(f => Entry((f.Short == null ? "      " : "  ") + Spelling(f), f.Description, DescriptionColumn));

    /// <summary>A name and its description in a column, wrapped; a name too wide for the column gets its own line.</summary>
    private static IEnumerable<string> Entry(string name, string description, int column)
    {
        if (description == "") return [name];
        var indent = new string(' ', column);
        return name.Length + 2 > column ? [name, .. Wrap(indent, description, indent)] : Wrap(name.PadRight(column), description, indent);
    }

    /// <summary><paramref name="prefix"/> and the text's words in lines of at most <see cref="Width"/>, continued after
    /// <paramref name="indent"/>.</summary>
    private static IEnumerable<string> Wrap(string prefix, string text, string indent)
    {
        var line = prefix;
        var first = true;
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!first && line.Length + 1 + word.Length > Width)
            {
                yield return line;
                line = indent + word;
            }
            else line += (first ? "" : " ") + word;
            first = false;
        }
        yield return line;
    }

    private static string Capitalized(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
