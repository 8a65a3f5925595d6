namespace BackupAgent.Cli;

/// <summary>One subcommand of backup-agent: its flags and what it does.</summary>
public abstract class Command
{
    public abstract string Name { get; }
    public abstract string Usage { get; }
    public virtual IReadOnlyDictionary<string, string?> ValueFlags { get; } = new Dictionary<string, string?>();
    public virtual IReadOnlyDictionary<string, string?> SwitchFlags { get; } = new Dictionary<string, string?>();

    public abstract Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct);

    protected static string Positional(Arguments args, int index, string what) =>
        index < args.Positional.Count ? args.Positional[index] : throw new UsageException($"missing {what}");
}
