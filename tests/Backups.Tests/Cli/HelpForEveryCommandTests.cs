using System.Text.RegularExpressions;
using BackupAgent.Cli;
using Backups.Tests.Errors;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Cli;

/// <summary>
/// Every command the program has (read from its own list, so that a command added later is covered without
/// touching this file): `--help` anywhere on the line, also after every one of its flags, prints that command's
/// help to stdout, exits 0 and leaves the repository byte for byte as it was, with no lock, and the working
/// directory untouched (`run --help` once backed up the current directory).
/// </summary>
public sealed class HelpForEveryCommandTests(HelpTests.TwoSnapshots shared) : IClassFixture<HelpTests.TwoSnapshots>, IDisposable
{
    private static readonly IReadOnlyList<Command> Commands = BackupAgent.Program.Commands(new Dictionary<string, string>());
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> CommandNames => new(Commands.Select(c => c.Name));

    /// <summary>The command's lines: --help alone, -h before the command, and --help after every flag it has (each
    /// with a value where it takes one) and an argument.</summary>
    private static IEnumerable<string[]> Lines(Command command)
    {
        var everyFlag = command.Flags.SelectMany(f => f.TakesValue ? new[] { "--" + f.Name, "1" } : ["--" + f.Name]);
        return
        [
            [command.Name, "--help"],
            ["-h", command.Name],
            ["-q", command.Name, .. everyFlag, "latest", "--help"],
            [command.Name, .. everyFlag, "-h", "x", "--", "sh", "-c", "touch ran"],
        ];
    }

    [Theory]
    [MemberData(nameof(CommandNames))]
    public async Task Help_anywhere_prints_help_and_changes_nothing(string name)
    {
        var command = Commands.Single(c => c.Name == name);
        var repo = shared.Repo;
        var workDir = Directory.CreateDirectory(_dir.Combine("cwd")).FullName;
        File.WriteAllText(Path.Combine(workDir, "file.txt"), "what a command that ran would read");
        var before = RepositoryFiles.Snapshot(repo.Repository);
        var workBefore = RepositoryFiles.Snapshot(workDir);
        foreach (var line in Lines(command))
        {
            var r = await Processes.RunAsync(Agent.Program, line, repo.Agent.Environment(), workingDirectory: workDir);
            var shown = string.Join(' ', line);
            Assert.True(r.ExitCode == 0, $"{shown}: exit {r.ExitCode}: {r.Stderr}");
            Assert.True(r.Stderr == "", $"{shown}: wrote to stderr: {r.Stderr}");
            Assert.StartsWith($"usage: backup-agent [global flags] {name}", r.StdoutText);
            foreach (var flag in command.Flags) Assert.Contains("--" + flag.Name, r.StdoutText);
            RepositoryFiles.AssertUnchanged(before, repo.Repository);
            Assert.Empty(RepositoryFiles.Ids(repo.Repository, "locks"));
            RepositoryFiles.AssertUnchanged(workBefore, workDir);
        }
    }

    /// <summary>The help, the completion and the man page are made from one table: each flag needs its line there.</summary>
    [Fact]
    public void Every_flag_and_command_has_a_one_line_description()
    {
        foreach (var command in Commands)
        {
            Assert.False(Help.Describe(command).Summary == "", $"{command.Name} has no summary (Usage is \"synopsis: summary\")");
            foreach (var flag in command.Flags.Concat(GlobalOptions.Flags))
                Assert.False(string.IsNullOrWhiteSpace(flag.Description), $"{command.Name} --{flag.Name} has no description (declare it in Flags)");
            Assert.Equal(command.Flags.Count, command.Flags.Select(f => f.Name).Distinct().Count());
        }
    }

    [Fact]
    public void No_help_line_is_longer_than_100_characters()
    {
        foreach (var text in Commands.Select(Help.For).Append(Help.Program(Commands)))
            foreach (var line in text.Split('\n'))
                Assert.True(line.Length <= Help.Width, $"{line.Length} characters: {line}");
    }

    [Fact]
    public void Program_help_lists_the_environment_variables_and_every_exit_code()
    {
        var help = Help.Program(Commands);
        foreach (var variable in new[] { "RESTIC_REPOSITORY", "RESTIC_PASSWORD", "RESTIC_PASSWORD_FILE", "RESTIC_PASSWORD_COMMAND",
                     "RESTIC_CACERT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION" })
            Assert.Matches(new Regex($"\n  {variable} +\\S"), help);
        foreach (var (code, _) in ExitCodes.Meanings) Assert.Matches(new Regex($"\n +{code}  \\S"), help);
    }

    /// <summary>README's exit code table is the program's, row for row.</summary>
    [Fact]
    public void Readme_exit_code_table_is_the_programs()
    {
        var readme = File.ReadAllLines(Path.Combine(TestStack.Directory, "..", "..", "README.md"));
        var start = Array.IndexOf(readme, "| code | meaning |");
        Assert.True(start >= 0, "README has no exit code table");
        var rows = readme.Skip(start + 2).TakeWhile(l => l.StartsWith('|'))
            .Select(l => l.Split('|', StringSplitOptions.TrimEntries)).Select(c => (int.Parse(c[1]), c[2])).ToList();
        Assert.Equal(ExitCodes.Meanings, rows);
    }
}
