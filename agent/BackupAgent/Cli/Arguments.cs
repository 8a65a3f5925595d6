namespace BackupAgent.Cli;

/// <summary>
/// restic-style command lines: `[flags] command [flags] [args] [-- program args...]`, flags as `--name value`,
/// `--name=value` or `-x value`, repeatable flags collected in order.
/// </summary>
/// <remarks>
/// Kept by hand rather than System.CommandLine 2.0: what people need from a parser here is restic's behaviour, not
/// a framework's (help wherever -h stands but never after a bare `--`, decided before any command runs; flags
/// before and after the command; the unknown flag named, not its value; a source command's own words passed
/// through untouched), and each of those would be a customisation fighting its defaults. The help, completion
/// scripts and man pages that such a framework would generate come from one table (<see cref="Flag"/>) instead,
/// without adding a dependency to the AOT binary.
/// </remarks>
public sealed class Arguments
{
    private readonly Dictionary<string, List<string>> _values = [];
    private readonly HashSet<string> _switches = [];

    public string Command { get; private set; } = "";
    public List<string> Positional { get; } = [];
    /// <summary>Everything after a bare `--`.</summary>
    public List<string> AfterDashes { get; } = [];

    /// <param name="valueFlags">Long names of flags that take a value, with their short forms.</param>
    /// <param name="switchFlags">Long names of flags that take none, with their short forms.</param>
    public static Arguments Parse(IReadOnlyList<string> args, IReadOnlyDictionary<string, string?> valueFlags, IReadOnlyDictionary<string, string?> switchFlags)
    {
        var result = new Arguments();
        string Resolve(string token, IReadOnlyDictionary<string, string?> flags)
        {
            if (token.StartsWith("--")) return flags.ContainsKey(token[2..]) ? token[2..] : "";
            foreach (var (name, shortName) in flags) if (shortName != null && "-" + shortName == token) return name;
            return "";
        }
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (a == "--")
            {
                result.AfterDashes.AddRange(args.Skip(i + 1));
                break;
            }
            if (a.Length > 1 && a[0] == '-')
            {
                var eq = a.IndexOf('=');
                var token = eq > 0 ? a[..eq] : a;
                var name = Resolve(token, valueFlags);
                if (name != "")
                {
                    string value;
                    if (eq > 0) value = a[(eq + 1)..];
                    else if (i + 1 < args.Count) value = args[++i];
                    else throw new UsageException($"flag {token} needs a value");
                    if (!result._values.TryGetValue(name, out var list)) result._values[name] = list = [];
                    list.Add(value);
                    continue;
                }
                name = Resolve(token, switchFlags);
                if (name != "" && eq < 0)
                {
                    result._switches.Add(name);
                    continue;
                }
                throw UsageException.UnknownFlag(token);
            }
            if (result.Command == "") result.Command = a;
            else result.Positional.Add(a);
        }
        return result;
    }

    public string? Value(string name) => _values.TryGetValue(name, out var v) ? v[^1] : null;
    public IReadOnlyList<string> Values(string name) => _values.TryGetValue(name, out var v) ? v : [];
    public bool Has(string name) => _switches.Contains(name);
}
