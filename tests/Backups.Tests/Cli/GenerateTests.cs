using BackupAgent.Cli;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Cli;

/// <summary>
/// `generate --bash-completion FILE --zsh-completion FILE --man DIR` (restic's spelling): the scripts complete what
/// the parser accepts, and the man pages are valid roff that lists every flag with its description.
/// </summary>
public sealed class GenerateTests : IAsyncLifetime
{
    private static readonly IReadOnlyList<Command> Commands = BackupAgent.Program.Commands(new Dictionary<string, string>());
    private readonly TempDir _dir = new();

    private string Bash => _dir.Combine("backup-agent.bash");
    private string Zsh => _dir.Combine("_backup-agent");
    private string Man => _dir.Combine("man");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Man);
        var r = await Processes.RunAsync(Agent.Program, ["generate", "--bash-completion", Bash, "--zsh-completion", Zsh, "--man", Man]);
        r.EnsureSuccess("generate");
        Assert.Contains($"writing {Bash}\n", r.StdoutText);
    }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>What the completion function offers for a line being typed (the last word is the one being completed).</summary>
    private async Task<List<string>> CompleteAsync(string shell, params string[] words)
    {
        var call = $"COMP_WORDS=({string.Join(' ', words.Select(w => $"'{w}'"))}); COMP_CWORD={words.Length - 1}; _backup_agent; " +
                   "printf '%s\\n' \"${COMPREPLY[@]}\"";
        // zsh runs the bash function through bashcompinit, which calls it in sh emulation (0-based arrays); its
        // compgen leaves matching the typed word to zsh (files by $PREFIX, words by compadd), done here as zsh would.
        var script = shell == "bash"
            ? $"source '{Bash}'; {call}"
            : $"autoload -U +X compinit && compinit -u -d '{_dir.Combine("zcompdump")}'; source '{Zsh}'; " +
              $"PREFIX='{words[^1]}'; emulate sh -c '{call.Replace("'", "'\\''")}'";
        var r = await Processes.RunAsync(shell, ["-c", script], workingDirectory: _dir.Path);
        r.EnsureSuccess($"{shell} completion of {string.Join(' ', words)}");
        return [.. r.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(w => w.StartsWith(words[^1], StringComparison.Ordinal))];
    }

    [Theory]
    [InlineData("bash")]
    [InlineData("zsh")]
    public async Task Completion_offers_commands_flags_and_files(string shell)
    {
        Assert.Equal(["snapshots"], await CompleteAsync(shell, "backup-agent", "sn"));
        // A global flag's value is not the command.
        Assert.Equal(["forget"], await CompleteAsync(shell, "backup-agent", "-r", "/srv/repo", "for"));
        Assert.Equal(["--keep-last"], await CompleteAsync(shell, "backup-agent", "forget", "--keep-l"));
        Assert.Contains("--read-data-subset", await CompleteAsync(shell, "backup-agent", "check", "--read"));
        Assert.Contains("--repo", await CompleteAsync(shell, "backup-agent", "check", "--re"));
        // A FILE is completed from file names, a DIR from directories; other values are not guessed.
        Assert.Equal(["backup-agent.bash"], await CompleteAsync(shell, "backup-agent", "run", "--config", "backup-agent.b"));
        Assert.Equal(["man"], await CompleteAsync(shell, "backup-agent", "restore", "latest", "--target", "m"));
        Assert.Empty(await CompleteAsync(shell, "backup-agent", "forget", "--keep-last", ""));
        // After -- the words are the source command's.
        Assert.Empty(await CompleteAsync(shell, "backup-agent", "backup", "--stdin-from-command", "--", "--"));
    }

    [Fact]
    public async Task Every_command_and_flag_is_completed()
    {
        var top = await CompleteAsync("bash", "backup-agent", "");
        foreach (var command in Commands)
        {
            Assert.Contains(command.Name, top);
            var flags = await CompleteAsync("bash", "backup-agent", command.Name, "-");
            foreach (var flag in command.Flags.Concat(GlobalOptions.Flags)) Assert.Contains("--" + flag.Name, flags);
        }
    }

    [Fact]
    public async Task Man_pages_are_valid_roff_with_every_flag_described()
    {
        var pages = Directory.GetFiles(Man).Select(Path.GetFileName).Order().ToList();
        Assert.Equal(Commands.Select(c => $"backup-agent-{c.Name}.1").Append("backup-agent.1").Order(), pages);
        foreach (var command in Commands)
        {
            var page = Path.Combine(Man, $"backup-agent-{command.Name}.1");
            var check = await Processes.RunAsync("groff", ["-man", "-ww", "-z", page]);
            Assert.True(check.ExitCode == 0 && check.Stderr == "", $"{page}: {check.Stderr}");
            var text = await RenderAsync(page);
            Assert.Contains($"backup-agent-{command.Name} - {Help.Describe(command).Summary.Split(' ')[0]}", text);
            foreach (var flag in command.Flags.Concat(GlobalOptions.Flags))
            {
                Assert.Contains(Help.Spelling(flag), text);
                Assert.Contains(Words(flag.Description), Words(text));
            }
        }
        var main = await RenderAsync(Path.Combine(Man, "backup-agent.1"));
        foreach (var section in new[] { "COMMANDS", "GLOBAL OPTIONS", "ENVIRONMENT", "EXIT STATUS" }) Assert.Contains($"\n{section}\n", main);
        Assert.Contains("RESTIC_PASSWORD_COMMAND", main);
        Assert.Contains(Words(Help.Plain(ExitCodes.Meanings.Single(m => m.Code == ExitCodes.WrongPassword).Meaning)), Words(main));
    }

    /// <summary>The page as man shows it, plain text (no overstrike), minus signs as typed.</summary>
    private static async Task<string> RenderAsync(string page)
    {
        var r = await Processes.RunAsync("groff", ["-man", "-Tutf8", "-P-cbou", "-rLL=200n", page]);
        r.EnsureSuccess("groff " + page);
        return r.StdoutText.Replace('\u2212', '-').Replace('\u2010', '-').Replace('\u2019', '\'');
    }

    /// <summary>Words separated by single spaces (roff justifies and breaks lines).</summary>
    private static string Words(string text) => string.Join(' ', text.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries));
}
