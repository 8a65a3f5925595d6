using System.Text.RegularExpressions;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Errors;

/// <summary>
/// backup-agent's documented exit codes, one per kind of failure (written out here, not taken from the agent,
/// so that a changed number fails these tests), and what a failure must look like to a person.
/// </summary>
public static partial class Failure
{
    public const int Usage = 2, RepositoryNotFound = 10, Locked = 11, WrongPassword = 12, AlreadyExists = 13, NotFound = 14,
        Damaged = 15, UnsupportedVersion = 16, Unavailable = 17, SourceFailed = 18, PasswordCommandFailed = 21, Interrupted = 130;

    /// <summary>
    /// The program exited with <paramref name="code"/> and said, on exactly one line of stderr, what went wrong
    /// (mentioning <paramref name="mentions"/>): no stack trace, no exception type, and none of the secrets
    /// (on stderr or stdout). Returns that line.
    /// </summary>
    public static string AssertOneLine(ProcessResult r, int code, string mentions, params string[] secrets)
    {
        var stderr = r.Stderr.TrimEnd('\n', '\r');
        Assert.True(r.ExitCode == code, $"expected exit code {code}, got {r.ExitCode}; stderr:\n{r.Stderr}");
        Assert.False(stderr.Contains('\n'), $"stderr is not one line:\n{r.Stderr}");
        Assert.StartsWith("backup-agent: ", stderr);
        Assert.Contains(mentions, stderr, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Exception", stderr);
        Assert.DoesNotMatch(StackFrame(), stderr);
        foreach (var secret in secrets.Append(Repositories.Password))
        {
            Assert.DoesNotContain(secret, stderr);
            Assert.DoesNotContain(secret, r.StdoutText);
        }
        return stderr;
    }

    /// <summary>"at Namespace.Type.Method(" as in a .NET stack trace.</summary>
    [GeneratedRegex(@"\bat [\w.`<>+]+\.[\w<>]+\(")]
    private static partial Regex StackFrame();
}
