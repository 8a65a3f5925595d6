namespace BackupAgent.Cli;

/// <summary>
/// One flag of the command line. The parser, the help, the completion scripts and the man pages all read the same
/// list, so a flag that is accepted is a flag that is documented and completed.
/// </summary>
/// <param name="Name">The long name without dashes ("password-file").</param>
/// <param name="Short">The one-letter form without its dash, or null.</param>
/// <param name="Value">What the flag takes, as help shows it ("FILE", "N"); null for a switch.</param>
/// <param name="Description">One line: what the flag does.</param>
public sealed record Flag(string Name, string? Short, string? Value, string Description)
{
    public bool TakesValue => Value != null;

    public static Flag Switch(string name, string description, string? shortName = null) => new(name, shortName, null, description);

    public static Flag Valued(string name, string value, string description, string? shortName = null) => new(name, shortName, value, description);

    /// <summary>The parser's tables: long name to short name, of the flags that take a value or of those that take none.</summary>
    public static Dictionary<string, string?> Table(IEnumerable<Flag> flags, bool takingValues) =>
        flags.Where(f => f.TakesValue == takingValues).ToDictionary(f => f.Name, f => f.Short);

    /// <summary>The flags of a command that declares only the parser's tables (no descriptions).</summary>
    public static IEnumerable<Flag> FromTables(IReadOnlyDictionary<string, string?> valueFlags, IReadOnlyDictionary<string, string?> switchFlags) =>
        valueFlags.Select(f => new Flag(f.Key, f.Value, "VALUE", ""))
            .Concat(switchFlags.Select(f => new Flag(f.Key, f.Value, null, "")));
}
