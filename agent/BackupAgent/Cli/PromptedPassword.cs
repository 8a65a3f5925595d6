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
        prompt.Write(Prompt);
        prompt.Flush();
        var typed = new System.Text.StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter) break;
            if (key.Key == ConsoleKey.Backspace)
            {
                if (typed.Length > 0) typed.Length--;
            }
            else if (key.KeyChar != '\0') typed.Append(key.KeyChar);
        }
        prompt.WriteLine();
        return typed.ToString();
    }

    protected override string Describe() => Console.IsInputRedirected ? "standard input" : "the terminal";
}
