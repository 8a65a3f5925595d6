using Backups.Core.Repositories;
using Backups.Core.Settings;

namespace BackupAgent.Cli;

/// <summary>
/// restic's password of last resort: asked for on the terminal ("enter password for repository: ", not
/// echoed) when standard input is one; otherwise the first line of standard input, as restic reads it.
/// </summary>
public sealed class PromptedPassword(TextWriter prompt) : PasswordSource
{
    public const string Prompt = "enter password for repository: ";

    protected override Task<string> ObtainAsync(CancellationToken ct)
    {
        var password = Console.IsInputRedirected ? Console.In.ReadLine() ?? "" : FromTerminal();
        // restic's words, and where a password could have come from instead.
        if (password.Length == 0)
            throw new RepositoryException(ErrorKind.ConfigError, "an empty password is not a password (none was given: use --password-file, " +
                $"--password-command, {ResticEnvironment.PasswordFile}, {ResticEnvironment.PasswordCommand} or {ResticEnvironment.Password})");
        return Task.FromResult(password);
    }

    private string FromTerminal()
    {
        using var echo = TerminalEcho.Off(0)
            ?? throw new RepositoryException(ErrorKind.ConfigError, "standard input is a terminal whose echo cannot be switched off: give the password another way");
        prompt.Write(Prompt);
        prompt.Flush();
        var password = echo.ReadLine();
        prompt.WriteLine();
        return password;
    }

    protected override string Describe() => Console.IsInputRedirected ? "standard input" : "the terminal";
}
