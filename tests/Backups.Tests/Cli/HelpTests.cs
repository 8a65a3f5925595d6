using System.Text;
using Backups.Tests.Errors;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Cli;

/// <summary>
/// `--help` or `-h` anywhere on a command line prints that command's help to stdout, exits 0 and touches nothing:
/// no repository file changes, no lock stays, nothing is backed up, restored or deleted. (It once ran the
/// command: `forget --keep-last 1 --prune --help` deleted a snapshot.)
/// </summary>
public sealed class HelpTests(HelpTests.TwoSnapshots shared) : IClassFixture<HelpTests.TwoSnapshots>, IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>One repository with two snapshots for every case: help changes nothing, and each case checks that.</summary>
    public sealed class TwoSnapshots : IAsyncLifetime
    {
        private readonly TempDir _dir = new();
        public RepositoryPair Repo { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Repo = new LocalStore(_dir).New();
            await Repo.Agent.RunOkAsync("init");
            for (var seed = 1; seed <= 2; seed++)
            {
                using var input = new TestData(TestData.Kind.Text, 64 << 10, seed);
                (await Repo.Agent.RunAsync(["backup", "--stdin", "--stdin-filename", "data.bin"], input)).EnsureSuccess("backup --stdin");
            }
        }

        public Task DisposeAsync()
        {
            _dir.Dispose();
            return Task.CompletedTask;
        }
    }

    /// <summary>A command line with --help or -h somewhere, the command it names, and a flag its help must list.</summary>
    public static TheoryData<string[], string, string> CommandLines => new()
    {
        { ["init", "--help"], "init", "--repository-version" },
        { ["--help", "init", "--repository-version", "1"], "init", "--repository-version" },
        { ["backup", "--tag", "x", "-h", "."], "backup", "--stdin-from-command" },
        { ["backup", "--stdin-from-command", "--stdin-filename", "x", "--help", "--", "sh", "-c", "exit 9"], "backup", "--exclude" },
        { ["snapshots", "--help"], "snapshots", "--tag" },
        { ["ls", "latest", "--help"], "ls", "--host" },
        { ["dump", "latest", "/data.bin", "--help"], "dump", "--path" },
        { ["restore", "latest", "--target", "restored", "--help"], "restore", "--target" },
        { ["cat", "config", "-h"], "cat", "--repo" },
        { ["check", "--read-data", "--help"], "check", "--read-data-subset" },
        { ["run", "--help"], "run", "--config" },
        { ["drill", "--help"], "drill", "--when-due" },
        { ["forget", "--keep-last", "1", "--prune", "--help"], "forget", "--keep-last" },
        { ["-h", "forget", "--keep-last", "1", "--prune"], "forget", "--prune" },
        { ["prune", "--help"], "prune", "--max-unused" },
        { ["unlock", "--remove-all", "--help"], "unlock", "--remove-all" },
        { ["stats", "--mode", "raw-data", "--help"], "stats", "--mode" },
        { ["diff", "latest", "latest", "-h"], "diff", "--metadata" },
        { ["find", "*.bin", "--help"], "find", "--ignore-case" },
        { ["key", "passwd", "--new-password-file", "/dev/null", "--help"], "key", "--new-password-file" },
        { ["tag", "--set", "x", "--help"], "tag", "--remove" },
        { ["version", "--help"], "version", "--json" },
    };

    [Theory]
    [MemberData(nameof(CommandLines))]
    public async Task Help_anywhere_prints_the_commands_help_and_touches_nothing(string[] args, string command, string flag)
    {
        var repo = shared.Repo;
        var workDir = Directory.CreateDirectory(_dir.Combine("cwd")).FullName;
        File.WriteAllText(Path.Combine(workDir, "file.txt"), "something run --help would back up");
        var before = RepositoryFiles.Snapshot(repo.Repository);
        var workBefore = RepositoryFiles.Snapshot(workDir);

        var r = await Processes.RunAsync(Agent.Program, args, repo.Agent.Environment(), workingDirectory: workDir);

        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stderr}");
        Assert.Equal("", r.Stderr);
        Assert.StartsWith($"usage: backup-agent [global flags] {command}", r.StdoutText);
        Assert.Contains(flag, r.StdoutText);
        Assert.Contains("--help", r.StdoutText);
        RepositoryFiles.AssertUnchanged(before, repo.Repository);
        Assert.Empty(RepositoryFiles.Ids(repo.Repository, "locks"));
        // Nothing restored, no ./.demo repository, nothing else written where it ran.
        RepositoryFiles.AssertUnchanged(workBefore, workDir);
        Assert.Equal(2, (await repo.Restic.JsonAsync("snapshots")).GetArrayLength());
    }

    [Fact]
    public async Task Init_help_creates_no_repository()
    {
        var repo = new LocalStore(_dir).New();
        var r = await repo.Agent.RunAsync(["init", "--help"]);
        Assert.Equal(0, r.ExitCode);
        Assert.False(Directory.Exists(repo.Repository));
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("help")]
    public async Task Program_help_goes_to_stdout(string word)
    {
        var r = await Processes.RunAsync(Agent.Program, [word]);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
        Assert.StartsWith("usage: backup-agent", r.StdoutText);
        foreach (var command in new[] { "init", "backup", "forget", "prune", "check", "run", "unlock" })
            Assert.Contains($"\n  {command} ", r.StdoutText);
    }

    [Fact]
    public async Task Help_names_a_command()
    {
        var r = await Processes.RunAsync(Agent.Program, ["help", "prune"]);
        Assert.Equal(0, r.ExitCode);
        Assert.StartsWith("usage: backup-agent [global flags] prune", r.StdoutText);
    }

    [Fact]
    public async Task No_command_is_a_usage_error_on_stderr()
    {
        var r = await Processes.RunAsync(Agent.Program, []);
        Assert.Equal(Failure.Usage, r.ExitCode);
        Assert.Empty(r.Stdout);
        Assert.StartsWith("usage: backup-agent", r.Stderr);
    }

    /// <summary>An unknown flag before the command used to make its value the command ("unknown command '100'").</summary>
    [Theory]
    [InlineData("--tls-client-cert", "100", "snapshots")]
    [InlineData("snapshots", "--tls-client-cert", "100")]
    public async Task Unknown_flag_with_a_value_blames_the_flag(params string[] args)
    {
        var before = RepositoryFiles.Snapshot(shared.Repo.Repository);
        var r = await shared.Repo.Agent.RunAsync(args);
        Failure.AssertOneLine(r, Failure.Usage, "unknown flag '--tls-client-cert'");
        RepositoryFiles.AssertUnchanged(before, shared.Repo.Repository);
    }

    /// <summary>After a bare `--` the words are the source command's: its own --help is not ours.</summary>
    [Fact]
    public async Task Help_after_dashes_belongs_to_the_source_command()
    {
        var repo = new LocalStore(_dir).New();
        await repo.Agent.RunOkAsync("init");
        await repo.Agent.RunOkAsync("backup", "--stdin-from-command", "--stdin-filename", "echoed.txt", "--", "sh", "-c", "echo \"$1\"", "sh", "--help");
        var dump = await repo.Agent.RunOkAsync("dump", "latest", "/echoed.txt");
        Assert.Equal("--help\n", Encoding.UTF8.GetString(dump.Stdout));
    }
}
