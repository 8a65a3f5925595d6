using Backups.Core.Repositories;
using Backups.Core.Settings;
using Xunit;

namespace Backups.Tests.Settings;

/// <summary>restic's --password-command: split into words as restic splits it, run without a shell, its output
/// the password and never part of an error.</summary>
public class PasswordCommandTests
{
    private const string Secret = "hunter2-do-not-print";

    [Theory]
    [InlineData("pass show restic", new[] { "pass", "show", "restic" })]
    [InlineData("  echo   two  spaces ", new[] { "echo", "two", "spaces" })]
    [InlineData("echo \"a b\" 'c d'", new[] { "echo", "a b", "c d" })]
    [InlineData("echo it\"s a\"", new[] { "echo", "it", "s a" })]
    [InlineData("echo 'say \"hi\"'", new[] { "echo", "say \"hi\"" })]
    [InlineData(@"echo a\b", new[] { "echo", "a", "b" })]
    [InlineData(@"echo \""", new[] { "echo", "\"" })]
    public void Splits_as_restic_does(string commandLine, string[] words) =>
        Assert.Equal(words, PasswordCommand.Parse(commandLine).Words);

    [Theory]
    [InlineData("echo \"open", "unterminated double-quoted")]
    [InlineData("echo 'open", "unterminated single-quoted")]
    [InlineData("   ", "empty")]
    public void Refuses_what_cannot_be_split(string commandLine, string mentions)
    {
        var e = Assert.Throws<RepositoryException>(() => PasswordCommand.Parse(commandLine));
        Assert.Equal(ErrorKind.ConfigError, e.Kind);
        Assert.Contains(mentions, e.Message);
    }

    [Fact]
    public async Task Its_output_is_the_password_without_surrounding_whitespace() =>
        Assert.Equal("p w", await PasswordCommand.Parse("printf '  p w \\n\\n'").RunAsync(CancellationToken.None));

    [Fact]
    public async Task No_shell_interprets_the_line() =>
        Assert.Equal("$HOME;|*", await PasswordCommand.Parse("echo '$HOME;|*'").RunAsync(CancellationToken.None));

    [Theory]
    [InlineData("sh -c 'echo " + Secret + "; exit 4'", "(sh) exited with status 4")]
    [InlineData("sh -c 'exit 0'", "(sh) printed no password")]
    [InlineData("no-such-program " + Secret, "(no-such-program) cannot be started")]
    [InlineData("head -c 70000 /dev/zero", "(head) printed more than 64 KiB")]
    public async Task A_failure_is_named_without_the_output_or_the_arguments(string commandLine, string mentions)
    {
        var e = await Assert.ThrowsAsync<RepositoryException>(() => PasswordCommand.Parse(commandLine).RunAsync(CancellationToken.None));
        Assert.Equal(ErrorKind.PasswordCommandFailed, e.Kind);
        Assert.Contains(mentions, e.Message);
        Assert.DoesNotContain(Secret, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public async Task It_does_not_read_our_standard_input() =>
        // cat would wait for input forever if it inherited ours; with its input closed it prints nothing.
        Assert.Equal(ErrorKind.PasswordCommandFailed,
            (await Assert.ThrowsAsync<RepositoryException>(() => PasswordCommand.Parse("cat").RunAsync(CancellationToken.None))).Kind);

    [Fact]
    public async Task A_source_runs_it_once()
    {
        using var dir = new Support.TempDir();
        var counter = dir.Combine("runs");
        var source = PasswordSource.FromCommand($"sh -c 'echo x >> {counter}; echo pw'");
        Assert.Equal("pw", await source.ReadAsync(CancellationToken.None));
        Assert.Equal("pw", await source.ReadAsync(CancellationToken.None));
        Assert.Single(File.ReadAllLines(counter));
    }
}
