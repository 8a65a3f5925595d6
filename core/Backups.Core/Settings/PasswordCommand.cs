using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using Backups.Core.Repositories;

namespace Backups.Core.Settings;

/// <summary>
/// restic's --password-command: a program (no shell) whose standard output is the password. Its output never
/// appears in an error or a log, nor do its arguments (they may hold a secret too); its standard error is the
/// program's own, passed through as restic does.
/// </summary>
public sealed class PasswordCommand
{
    /// <summary>A password is short: a program printing more is not printing a password, and is not read further.</summary>
    private const int MaxOutput = 64 << 10;

    private readonly IReadOnlyList<string> _arguments;

    private PasswordCommand(IReadOnlyList<string> arguments) => _arguments = arguments;

    public string Program => _arguments[0];

    internal IReadOnlyList<string> Words => _arguments;

    /// <summary>Splits the command line into words as restic does: whitespace separates words (so does a backslash
    /// outside quotes), single or double quotes group them, and a backslash before a quote makes it a plain character.</summary>
    /// <exception cref="RepositoryException">ConfigError: an unterminated quote, or no words at all.</exception>
    public static PasswordCommand Parse(string commandLine)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        char quote = '\0', last = '\0';
        foreach (var c in commandLine)
        {
            bool separates;
            if (last != '\\' && quote != '\0' && c == quote)
            {
                quote = '\0';
                separates = true;
            }
            else if (last != '\\' && quote == '\0' && c is '"' or '\'')
            {
                quote = c;
                separates = true;
            }
            else
            {
                last = c;
                separates = quote == '\0' && (c == '\\' || char.IsWhiteSpace(c));
            }
            if (!separates)
            {
                word.Append(c);
                inWord = true;
            }
            else if (inWord)
            {
                words.Add(word.ToString());
                word.Clear();
                inWord = false;
            }
        }
        if (inWord) words.Add(word.ToString());
        if (quote != '\0')
            throw new RepositoryException(ErrorKind.ConfigError, $"the password command has an unterminated {(quote == '"' ? "double" : "single")}-quoted string");
        if (words.Count == 0) throw new RepositoryException(ErrorKind.ConfigError, "the password command is empty");
        return new PasswordCommand(words);
    }

    /// <summary>Runs the program to its end and returns its output without the surrounding whitespace.</summary>
    /// <exception cref="RepositoryException">PasswordCommandFailed: it cannot start, exits non-zero, prints
    /// nothing or far too much.</exception>
    public async Task<string> RunAsync(CancellationToken ct)
    {
        // Its standard input is closed: it must not read a `backup --stdin` stream meant for us.
        var start = new ProcessStartInfo(Program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardInput = true };
        foreach (var argument in _arguments.Skip(1)) start.ArgumentList.Add(argument);
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw Failed($"cannot be started: {e.Message}");
        }
        process.StandardInput.Close();
        try
        {
            var output = await ReadBoundedAsync(process.StandardOutput.BaseStream, ct);
            await process.WaitForExitAsync(ct);
            if (process.ExitCode != 0) throw Failed($"exited with status {process.ExitCode}");
            var password = Encoding.UTF8.GetString(output).Trim();
            if (password.Length == 0) throw Failed("printed no password");
            return password;
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    private async Task<byte[]> ReadBoundedAsync(Stream stdout, CancellationToken ct)
    {
        var buffer = new byte[MaxOutput + 1];
        var length = 0;
        int n;
        while (length < buffer.Length && (n = await stdout.ReadAsync(buffer.AsMemory(length), ct)) > 0) length += n;
        if (length > MaxOutput) throw Failed($"printed more than {MaxOutput >> 10} KiB, which is no password");
        return buffer[..length];
    }

    private RepositoryException Failed(string why) =>
        new(ErrorKind.PasswordCommandFailed, $"the password command ({Path.GetFileName(Program)}) {why}");
}
