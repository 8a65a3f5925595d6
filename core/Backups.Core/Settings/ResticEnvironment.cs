using Backups.Core.Compression;
using Backups.Core.Repositories;

namespace Backups.Core.Settings;

/// <summary>What a command line gave (each null when not given); a flag overrides its environment variable, as in restic.</summary>
public sealed record RepositoryFlags(string? Repository = null, string? PasswordFile = null, string? PasswordCommand = null,
    string? CaCert = null, string? Compression = null);

/// <summary>
/// restic's environment variables, read as restic reads them, into <see cref="RepositorySettings"/>: the agent's
/// commands (with their flags over them) and the functions read the same variables the same way.
/// </summary>
public static class ResticEnvironment
{
    public const string Repository = "RESTIC_REPOSITORY", Password = "RESTIC_PASSWORD", PasswordFile = "RESTIC_PASSWORD_FILE",
        PasswordCommand = "RESTIC_PASSWORD_COMMAND", CaCert = "RESTIC_CACERT", Compression = "RESTIC_COMPRESSION";

    /// <param name="password">Where the password comes from when the caller knows better (a function's SSM
    /// parameter); by default restic's password flags and variables.</param>
    /// <exception cref="RepositoryException">ConfigError: no repository or password given, or a value is malformed.</exception>
    public static RepositorySettings Read(IReadOnlyDictionary<string, string> environment, RepositoryFlags? flags = null, PasswordSource? password = null)
    {
        flags ??= new RepositoryFlags();
        string? Get(string? flag, string variable) => Value(environment, flag, variable);
        var location = Get(flags.Repository, Repository)
                       ?? throw new RepositoryException(ErrorKind.ConfigError, $"no repository given: use -r/--repo or set {Repository}");
        password ??= PasswordFrom(environment, flags)
                     ?? throw new RepositoryException(ErrorKind.ConfigError, environment.ContainsKey(Password)
                         ? $"empty passwords are not allowed ({Password} is empty)"
                         : $"no password given: use --password-file, --password-command, {PasswordFile}, {PasswordCommand} or {Password}");
        return new RepositorySettings(location, password)
        {
            // restic takes a comma-separated list here; a single file is what one S3-compatible store needs.
            CaCertFile = Get(flags.CaCert, CaCert),
            Compression = ParseCompression(Get(flags.Compression, Compression) ?? "auto"),
        };
    }

    /// <summary>restic's order: a password file and a command exclude each other; then the command, the file, RESTIC_PASSWORD.
    /// Null when none is given.</summary>
    public static PasswordSource? PasswordFrom(IReadOnlyDictionary<string, string> environment, RepositoryFlags? flags = null)
    {
        string? Get(string? flag, string variable) => Value(environment, flag, variable);
        var file = Get(flags?.PasswordFile, PasswordFile);
        var command = Get(flags?.PasswordCommand, PasswordCommand);
        return (file, command) switch
        {
            ({ }, { }) => throw new RepositoryException(ErrorKind.ConfigError, "a password file and a password command exclude each other: give one"),
            (null, { } c) => PasswordSource.FromCommand(c),
            ({ } f, null) => PasswordSource.FromFile(f),
            _ => Get(null, Password) is { } p ? PasswordSource.Given(p, Password) : null,
        };
    }

    /// <summary>The flag, else the variable; an empty variable counts as unset, as in restic.</summary>
    private static string? Value(IReadOnlyDictionary<string, string> environment, string? flag, string variable) =>
        flag ?? (environment.GetValueOrDefault(variable) is { Length: > 0 } v ? v : null);

    private static CompressionMode ParseCompression(string text) => text switch
    {
        "auto" => CompressionMode.Auto,
        "off" => CompressionMode.Off,
        "max" => CompressionMode.Max,
        _ => throw new RepositoryException(ErrorKind.ConfigError, $"--compression ({Compression}) must be auto, off or max, not '{text}'"),
    };
}
