using BackupAgent.Cli;

namespace BackupAgent.Commands;

/// <summary>restic's generate: shell completion scripts and man pages, from the same flag tables as the parser.</summary>
public sealed class GenerateCommand(Func<IReadOnlyList<Command>> commands) : Command
{
    public override string Name => "generate";
    public override string Usage => "generate [--bash-completion FILE] [--zsh-completion FILE] [--man DIR]: write completion scripts and man pages";
    public override IReadOnlyList<Flag> Flags { get; } =
    [
        Flag.Valued("bash-completion", "FILE", "write the bash completion script to FILE"),
        Flag.Valued("zsh-completion", "FILE", "write the zsh completion script to FILE"),
        Flag.Valued("man", "DIR", "write the man pages into DIR"),
    ];

    public override Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        if (args.Positional.Count > 0) throw new UsageException("generate takes no arguments");
        var (bash, zsh, man) = (args.Value("bash-completion"), args.Value("zsh-completion"), args.Value("man"));
        if (bash == null && zsh == null && man == null)
            throw new UsageException("nothing to do: give --bash-completion FILE, --zsh-completion FILE or --man DIR");
        var list = commands();
        if (bash != null) Write(bash, Completion.Bash(list), global, output);
        if (zsh != null) Write(zsh, Completion.Zsh(list), global, output);
        if (man != null)
        {
            if (!Directory.Exists(man)) throw new UsageException($"--man: {man} is not a directory");
            foreach (var (name, text) in ManPages.All(list, DateOnly.FromDateTime(DateTime.UtcNow)))
                Write(Path.Combine(man, name), text, global, output);
        }
        return Task.FromResult(ExitCodes.Ok);
    }

    private static void Write(string path, string text, GlobalOptions global, Output output)
    {
        File.WriteAllText(path, text);
        // As restic: it says what it wrote.
        if (!global.Quiet) output.Line($"writing {path}");
    }
}
