using Backups.Core.Repositories;

namespace Backups.Core.Settings;

/// <summary>Where the repository password comes from. It is obtained once (a command runs once) and only when a
/// repository is opened or created.</summary>
public abstract class PasswordSource
{
    private string? _password;

    /// <exception cref="ClassifiedException">The password cannot be obtained, or is empty.</exception>
    public async Task<string> ReadAsync(CancellationToken ct)
    {
        if (_password != null) return _password;
        var password = await ObtainAsync(ct);
        if (password.Length == 0) throw new RepositoryException(ErrorKind.ConfigError, $"empty passwords are not allowed ({Describe()} gives one)");
        return _password = password;
    }

    protected abstract Task<string> ObtainAsync(CancellationToken ct);

    /// <summary>Where the password comes from, for errors: never the password, nor a command's arguments.</summary>
    protected abstract string Describe();

    /// <summary>A password at hand (RESTIC_PASSWORD, a resolved secret).</summary>
    public static PasswordSource Given(string password, string describe) => new GivenPassword(password, describe);

    public static PasswordSource FromFile(string path) => new FilePassword(path);

    /// <summary>restic's --password-command: the program's standard output.</summary>
    public static PasswordSource FromCommand(string commandLine) => new CommandPassword(commandLine);

    private sealed class GivenPassword(string password, string describe) : PasswordSource
    {
        protected override Task<string> ObtainAsync(CancellationToken ct) => Task.FromResult(password);
        protected override string Describe() => describe;
    }

    private sealed class FilePassword(string path) : PasswordSource
    {
        protected override Task<string> ObtainAsync(CancellationToken ct) => Task.FromResult(SecretFile.Read(path, "the password file"));
        protected override string Describe() => $"the password file {path}";
    }

    private sealed class CommandPassword(string commandLine) : PasswordSource
    {
        protected override Task<string> ObtainAsync(CancellationToken ct) => PasswordCommand.Parse(commandLine).RunAsync(ct);
        protected override string Describe() => "the password command";
    }
}
