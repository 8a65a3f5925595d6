using Backups.Core;

namespace BackupAgent.Cli;

/// <summary>
/// The help texts, built from the same flag tables the parser uses, so that a flag a command accepts is a flag its
/// help lists. Help is what was asked for, so it goes to stdout (as restic's does).
/// </summary>
public static class Help
{
    /// <summary>`--help` or `-h` before any bare `--` (after it, the words belong to a source command).</summary>
    public static bool IsRequested(IReadOnlyList<string> args) =>
        args.TakeWhile(a => a != "--").Any(a => a is "--help" or "-h");

    public static string Program(IEnumerable<Command> commands)
    {
        var list = commands.ToList();
        var width = list.Max(c => c.Name.Length) + 2;
        var lines = new List<string> { $"usage: {ProgramInfo.Name} [global flags] COMMAND [flags] [args]", "", "Commands:" };
        lines.AddRange(list.Select(c => $"  {c.Name.PadRight(width)}{Describe(c).Summary}"));
        lines.Add("");
        lines.AddRange(GlobalFlags());
        lines.Add("");
        lines.Add($"'{ProgramInfo.Name} COMMAND --help' shows a command's flags.");
        return string.Join('\n', lines) + "\n";
    }

    public static string For(Command command)
    {
        var (synopsis, summary) = Describe(command);
        var lines = new List<string> { $"usage: {ProgramInfo.Name} [global flags] {synopsis}" };
        if (summary != "") lines.AddRange(["", summary]);
        var flags = FlagLines(command.ValueFlags, command.SwitchFlags).ToList();
        if (flags.Count > 0) lines.AddRange(["", "Flags:", .. flags]);
        lines.Add("");
        lines.AddRange(GlobalFlags());
        return string.Join('\n', lines) + "\n";
    }

    private static IEnumerable<string> GlobalFlags() =>
        ["Global flags:", .. FlagLines(GlobalOptions.ValueFlags, GlobalOptions.SwitchFlags)];

    /// <summary>A command's usage reads "synopsis: what it does".</summary>
    private static (string Synopsis, string Summary) Describe(Command command)
    {
        var colon = command.Usage.IndexOf(": ", StringComparison.Ordinal);
        return colon < 0 ? (command.Usage, "") : (command.Usage[..colon], command.Usage[(colon + 2)..]);
    }

    private static IEnumerable<string> FlagLines(IReadOnlyDictionary<string, string?> valueFlags, IReadOnlyDictionary<string, string?> switchFlags) =>
        valueFlags.Select(f => (Name: f.Key, Short: f.Value, Takes: " VALUE"))
            .Concat(switchFlags.Select(f => (Name: f.Key, Short: f.Value, Takes: "")))
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .Select(f => $"  {(f.Short == null ? "    " : $"-{f.Short}, ")}--{f.Name}{f.Takes}");
}
