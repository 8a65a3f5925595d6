using System.Text.RegularExpressions;
using BackupAgent.Cli;
using BackupAgent.Run;
using Backups.Aws.Secrets;
using Backups.Core.Backends;
using Backups.Core.Crypto;
using Backups.Core.Repositories;
using Backups.Functions.Runtime;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Errors;

/// <summary>The one failure taxonomy: every kind has an exit code README documents, a workflow error name and a
/// function error name, and an exception is classified the same way for all three.</summary>
public class ErrorKindTests
{
    public static TheoryData<ErrorKind> Kinds() => [.. Enum.GetValues<ErrorKind>()];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Every_kind_has_an_exit_code_a_workflow_name_and_a_function_name(ErrorKind kind)
    {
        Assert.Contains(ExitCodes.For(kind), DocumentedExitCodes());
        Assert.Matches(@"^BackupAgent\.[A-Z][A-Za-z]+$", TaskReporter.ErrorName(kind));
        Assert.Matches(@"^Backups\.[A-Z][A-Za-z]+$", ErrorNames.For(kind));
    }

    [Fact]
    public void Kinds_are_tell_apart_on_every_side()
    {
        var kinds = Enum.GetValues<ErrorKind>();
        Assert.Equal(kinds.Length, kinds.Select(TaskReporter.ErrorName).Distinct().Count());
        Assert.Equal(kinds.Length, kinds.Select(ErrorNames.For).Distinct().Count());
        // Usage and configuration mistakes share README's code 2; every other kind has its own.
        Assert.Equal(kinds.Length - 1, kinds.Select(ExitCodes.For).Distinct().Count());
        Assert.Equal(ExitCodes.For(ErrorKind.InvalidArgument), ExitCodes.For(ErrorKind.ConfigError));
    }

    public static TheoryData<Exception, ErrorKind> Classified() => new()
    {
        { new CryptoException("ciphertext verification failed"), ErrorKind.Damaged },
        { new IOException("pipeline failed", new CryptoException("ciphertext verification failed")), ErrorKind.Damaged },
        { new AggregateException(new CryptoException("x"), new InvalidOperationException("y")), ErrorKind.Damaged },
        { new FileNotFoundInBackendException("data/ab/abcd"), ErrorKind.Damaged },
        { new BackendUnavailableException("s3 unreachable"), ErrorKind.Unavailable },
        { new RepositoryLocationException("bad repository"), ErrorKind.ConfigError },
        { new SecretException("cannot read /missing"), ErrorKind.ConfigError },
        { new ConfigException("$.repository", "required"), ErrorKind.ConfigError },
        { new ConfigurationException("RESTIC_REPOSITORY is required"), ErrorKind.ConfigError },
        { new UsageException("unknown flag"), ErrorKind.InvalidArgument },
        { new InvalidInputException("bad field"), ErrorKind.InvalidArgument },
        { new SourceFailedException("pg_dump exited with 1", 1, ""), ErrorKind.SourceFailed },
        { new RepositoryException(ErrorKind.WrongPassword, "wrong password"), ErrorKind.WrongPassword },
        { new OperationCanceledException(), ErrorKind.Interrupted },
        { new InvalidOperationException("a bug"), ErrorKind.Failure },
        { new IOException("disk full"), ErrorKind.Failure },
    };

    [Theory]
    [MemberData(nameof(Classified))]
    public void An_exception_has_one_kind_for_exit_codes_and_both_error_names(Exception e, ErrorKind kind)
    {
        Assert.Equal(kind, Failures.KindOf(e));
        Assert.Equal(TaskReporter.ErrorName(kind), TaskReporter.ErrorName(e));
        Assert.Equal(ErrorNames.For(kind), ErrorNames.Of(e));
    }

    [Fact]
    public void A_decryption_failure_is_damage_everywhere()
    {
        var e = new CryptoException("ciphertext verification failed");
        Assert.Equal(15, ExitCodes.For(Failures.KindOf(e)));
        Assert.Equal("BackupAgent.RepositoryDamaged", TaskReporter.ErrorName(e));
        Assert.Equal("Backups.RepositoryDamaged", ErrorNames.Of(e));
    }

    [Fact]
    public void A_functions_own_failure_keeps_its_name() =>
        Assert.Equal("Backups.StaleBackups", ErrorNames.Of(new FunctionFailure("Backups.StaleBackups", "app-db is 3 days old")));

    /// <summary>The codes of README's exit code table.</summary>
    private static HashSet<int> DocumentedExitCodes()
    {
        var readme = File.ReadAllText(Path.Combine(TestStack.Directory, "..", "..", "README.md"));
        var codes = Regex.Matches(readme, @"^\| (\d+) \| ", RegexOptions.Multiline).Select(m => int.Parse(m.Groups[1].Value)).ToHashSet();
        Assert.Contains(0, codes);
        return codes;
    }
}
