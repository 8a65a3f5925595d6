using Backups.Core.Compression;
using Backups.Core.Repositories;

namespace Backups.Core.Settings;

/// <summary>What a command line gave (each null when not given); a flag overrides its environment variable, as in restic.</summary>
/// <param name="Options">restic's -o key=value pairs, in the order given.</param>
public sealed record RepositoryFlags(string? Repository = null, string? PasswordFile = null, string? PasswordCommand = null,
    string? CaCert = null, string? Compression = null, IReadOnlyList<string>? Options = null);

/// <summary>The names one repository is given by: its flags and variables. restic names the second repository of
/// `copy` (and of `init --from-repo`) with the same words after "from-" and "FROM_".</summary>
public sealed record RepositoryNames(string RepositoryFlag, string PasswordFileFlag, string PasswordCommandFlag,
    string Repository, string Password, string PasswordFile, string PasswordCommand)
{
    public static readonly RepositoryNames Main = new("-r/--repo", "--password-file", "--password-command",
        ResticEnvironment.Repository, ResticEnvironment.Password, ResticEnvironment.PasswordFile, ResticEnvironment.PasswordCommand);

    public static readonly RepositoryNames From = new("--from-repo", "--from-password-file", "--from-password-command",
        "RESTIC_FROM_REPOSITORY", "RESTIC_FROM_PASSWORD", "RESTIC_FROM_PASSWORD_FILE", "RESTIC_FROM_PASSWORD_COMMAND");
}

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
    /// <param name="names">Which repository's flags and variables (the main one by default; copy's source is
    /// <see cref="RepositoryNames.From"/>). The CA certificate, compression and -o options are shared, as in restic.</param>
    /// <exception cref="RepositoryException">ConfigError: no repository or password given, or a value is malformed.</exception>
    public static RepositorySettings Read(IReadOnlyDictionary<string, string> environment, RepositoryFlags? flags = null, PasswordSource? password = null,
        RepositoryNames? names = null)
    {
        flags ??= new RepositoryFlags();
        names ??= RepositoryNames.Main;
        string? Get(string? flag, string variable) => Value(environment, flag, variable);
        var location = Get(flags.Repository, names.Repository)
                       ?? throw new RepositoryException(ErrorKind.ConfigError, $"no repository given: use {names.RepositoryFlag} or set {names.Repository}");
        password ??= PasswordFrom(environment, flags, names)
                     ?? throw new RepositoryException(ErrorKind.ConfigError, environment.ContainsKey(names.Password)
                         ? $"empty passwords are not allowed ({names.Password} is empty)"
                         : $"no password given: use {names.PasswordFileFlag}, {names.PasswordCommandFlag}, {names.PasswordFile}, {names.PasswordCommand} or {names.Password}");
        return new RepositorySettings(location, password)
        {
            // restic takes a comma-separated list here; a single file is what one S3-compatible store needs.
            CaCertFile = Get(flags.CaCert, CaCert),
            Compression = ParseCompression(Get(flags.Compression, Compression) ?? "auto"),
            Options = ExtendedOptions.None.With(ExtendedOptions.FromVariable(environment)).With(flags.Options ?? []),
        };
    }

    /// <summary>restic's order: a password file and a command exclude each other; then the command, the file, RESTIC_PASSWORD.
    /// Null when none is given.</summary>
    public static PasswordSource? PasswordFrom(IReadOnlyDictionary<string, string> environment, RepositoryFlags? flags = null, RepositoryNames? names = null)
    {
        names ??= RepositoryNames.Main;
        string? Get(string? flag, string variable) => Value(environment, flag, variable);
        var file = Get(flags?.PasswordFile, names.PasswordFile);
        var command = Get(flags?.PasswordCommand, names.PasswordCommand);
        return (file, command) switch
        {
            ({ }, { }) => throw new RepositoryException(ErrorKind.ConfigError, "a password file and a password command exclude each other: give one"),
            (null, { } c) => PasswordSource.FromCommand(c),
            ({ } f, null) => PasswordSource.FromFile(f),
            _ => Get(null, names.Password) is { } p ? PasswordSource.Given(p, names.Password) : null,
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
