using System.Text.RegularExpressions;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Cli;

/// <summary>
/// What a person at a terminal sees, in a real pseudo-terminal (util-linux's script): backup, restore and run show
/// one live progress line (redrawn in place, cleared before any other line) and text, never JSON log lines; a
/// summary says what was added before and after compression; with -q a successful command prints nothing.
/// </summary>
public sealed class TerminalOutputTests : IDisposable
{
    // Each redraw erases the line (ESC [2K) and writes "[m:ss] ...".
    private static readonly Regex ProgressLine = new(@"\x1b\[2K\[\d+:\d\d\] [^\r\n\x1b]*\d+(\.\d+)? (B|KiB|MiB)", RegexOptions.Compiled);
    private readonly TempDir _dir = new();
    private readonly RepositoryPair _repo;
    private readonly string _source;

    public TerminalOutputTests()
    {
        _repo = new LocalStore(_dir).New();
        _source = Directory.CreateDirectory(_dir.Combine("source")).FullName;
        for (var i = 0; i < 20; i++)
        {
            using var data = new TestData(TestData.Kind.Text, 256 << 10, i);
            using var file = File.Create(Path.Combine(_source, $"file{i}.txt"));
            data.CopyTo(file);
        }
    }

    public void Dispose() => _dir.Dispose();

    /// <summary>The agent run in a pseudo-terminal (stdin, stdout and stderr all a tty): its exit code and the screen's bytes.</summary>
    private async Task<(int Code, string Screen)> InTerminalAsync(params string[] args)
    {
        var line = string.Join(' ', new[] { Agent.Program }.Concat(args).Select(a => "'" + a.Replace("'", "'\\''") + "'"));
        var r = await Processes.RunAsync("script", ["-qfec", line, "/dev/null"], _repo.Agent.Environment(), workingDirectory: _dir.Path);
        // The .NET runtime switches a terminal's keypad mode as it starts (ESC [?1h ESC =): a mode, nothing shown.
        return (r.ExitCode, r.StdoutText.Replace("\x1b[?1h\x1b=", "").Replace("\x1b[?1l\x1b>", ""));
    }

    private static void AssertNoJson(string screen) =>
        Assert.DoesNotMatch(new Regex(@"(^|[\r\n]|\x1b\[2K)\{"), screen);

    [Fact]
    public async Task Backup_restore_and_run_show_progress_and_text_on_a_terminal()
    {
        await _repo.Agent.RunOkAsync("init");

        var (code, backup) = await InTerminalAsync("backup", _source);
        Assert.True(code == 0, backup);
        Assert.Matches(ProgressLine, backup);
        Assert.Contains("20 files", backup);
        AssertNoJson(backup);
        // Before and after compression: text compresses, so the second figure is the smaller.
        var added = Regex.Match(backup, @"Added to the repository: ([\d.]+) (KiB|MiB) \(([\d.]+) (KiB|MiB) stored\)");
        Assert.True(added.Success, backup);
        // The progress line was cleared before the summary was written.
        Assert.Contains("\x1b[2KAdded to the repository", backup);

        var (restoreCode, restore) = await InTerminalAsync("restore", "latest", "--target", _dir.Combine("restored"));
        Assert.True(restoreCode == 0, restore);
        Assert.Matches(ProgressLine, restore);
        Assert.Contains("restored snapshot", restore);
        AssertNoJson(restore);

        var config = _dir.Combine("config.json");
        File.WriteAllText(config, $$"""
            { "repository": "{{_repo.Repository}}", "password": { "value": "{{Repositories.Password}}" },
              "sources": [ { "name": "files", "kind": "paths", "paths": ["{{_source}}"] } ] }
            """);
        var (runCode, run) = await InTerminalAsync("run", "--config", config);
        Assert.True(runCode == 0, run);
        Assert.Matches(new Regex(@"\x1b\[2K\[\d+:\d\d\] (starting|files )"), run);
        AssertNoJson(run);
        // The log as text lines, and the summary with what was stored.
        Assert.Matches(new Regex(@"\d\d:\d\d:\d\d source finished source=files"), run);
        Assert.Matches(new Regex(@"files: snapshot [0-9a-f]{8}, read [\d.]+ (KiB|MiB) in [\d.]+ s, added [\d.]+ (B|KiB) \([\d.]+ (B|KiB) stored\)"), run);
    }

    [Fact]
    public async Task Quiet_prints_nothing_on_success()
    {
        var (initCode, init) = await InTerminalAsync("-q", "init");
        Assert.Equal((0, ""), (initCode, init));
        var (code, backup) = await InTerminalAsync("backup", "-q", _source);
        Assert.Equal((0, ""), (code, backup));
        var (restoreCode, restore) = await InTerminalAsync("-q", "restore", "latest", "--target", _dir.Combine("restored"));
        Assert.Equal((0, ""), (restoreCode, restore));
        Assert.Equal(20, Directory.GetFiles(_dir.Combine("restored"), "*", SearchOption.AllDirectories).Length);
        var (checkCode, check) = await InTerminalAsync("check", "--read-data", "-q");
        Assert.Equal((0, ""), (checkCode, check));
    }

    /// <summary>Not on a terminal (journald, SSM): run's log stays JSON lines, with no progress line.</summary>
    [Fact]
    public async Task Run_logs_json_lines_when_not_on_a_terminal()
    {
        await _repo.Agent.RunOkAsync("init");
        var config = _dir.Combine("config.json");
        File.WriteAllText(config, $$"""
            { "repository": "{{_repo.Repository}}", "password": { "value": "{{Repositories.Password}}" },
              "sources": [ { "name": "files", "kind": "paths", "paths": ["{{_source}}"] } ] }
            """);
        var r = await _repo.Agent.RunAsync(["run", "--config", config]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.StartsWith("{\"time\":", l));
        Assert.DoesNotContain("\x1b", r.Stderr);
    }
}
