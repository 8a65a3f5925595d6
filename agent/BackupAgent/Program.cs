using System.Collections;
using System.Runtime.InteropServices;
using BackupAgent.Cli;
using BackupAgent.Commands;
using Backups.Core;
using Backups.Core.Backends;
using Backups.Core.Crypto;
using Backups.Core.Repositories;

namespace BackupAgent;

public static class Program
{
    /// <summary>Every command, in the order help lists them.</summary>
    public static IReadOnlyList<Command> Commands(IReadOnlyDictionary<string, string> env) =>
    [
        new InitCommand(env), new BackupCommand(), new SnapshotsCommand(), new LsCommand(), new DumpCommand(),
        new RestoreCommand(), new CatCommand(), new CheckCommand(), new RunCommand(env), new DrillCommand(env), new ForgetCommand(),
        new PruneCommand(), new UnlockCommand(), new StatsCommand(), new DiffCommand(), new FindCommand(), new KeyCommand(),
        new TagCommand(), new CopyCommand(env), new VersionCommand(), new StatusCommand(), new ArchiverCommand(env), new WalPushCommand(),
        new WalFetchCommand(), new PitrCommand(env), new GenerateCommand(() => Commands(env)),
    ];

    public static async Task<int> Main(string[] args)
    {
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
        };
        // SIGTERM (kill, systemd, docker stop) ends a run as Ctrl-C does, as restic does: the lock is removed
        // on the way out. Without this the runtime exits at once and leaves the lock behind.
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            cts.Cancel();
        });
        var env = Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "");
        return await RunAsync(args, env, Console.OpenStandardOutput(), Console.Error, cts.Token, stderrIsTerminal: !Console.IsErrorRedirected);
    }

    /// <param name="stderrIsTerminal">A person watches stderr: progress lines, logs as text.</param>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, IReadOnlyDictionary<string, string> env, Stream stdout, TextWriter stderr,
        CancellationToken ct, bool stderrIsTerminal = false)
    {
        try
        {
            if (args.Count == 1 && args[0] == "--version") args = ["version"];
            var commands = Commands(env);
            var name = CommandName(args, commands);
            // Help is decided here, before any command runs, so that no command can forget it: `forget --prune
            // --help` must print help and delete nothing.
            var help = RequestedHelp(args, name, commands);
            if (help != null)
            {
                await WriteAsync(stdout, help, ct);
                return ExitCodes.Ok;
            }
            if (name == null)
            {
                stderr.Write(Help.Program(commands));
                return ExitCodes.Usage;
            }
            var command = commands.FirstOrDefault(c => c.Name == name) ?? throw UnknownCommand(name);
            Flag[] flags = [.. GlobalOptions.Flags, .. command.Flags];
            var parsed = Arguments.Parse(args, Flag.Table(flags, takingValues: true), Flag.Table(flags, takingValues: false));
            var global = new GlobalOptions(parsed, env);
            return await command.RunAsync(parsed, global, new Output(stdout, stderr, global.Json, global.Quiet, stderrIsTerminal), ct);
        }
        catch (Exception e)
        {
            var (code, message) = Describe(e);
            stderr.WriteLine($"{ProgramInfo.Name}: {message}");
            return code;
        }
    }

    /// <summary>
    /// The first word that is neither a flag nor a flag's value. A flag before the command must be one some
    /// command knows (else its value would be taken for the command: `--limit-upload 100` is an unknown flag,
    /// not an unknown command '100').
    /// </summary>
    private static string? CommandName(IReadOnlyList<string> args, IReadOnlyList<Command> commands)
    {
        var known = commands.SelectMany(c => c.Flags).Concat(GlobalOptions.Flags).ToList();
        // A name that takes a value in some command (-c: run's --config, forget's --compact) is read as taking one.
        Flag? Known(string name) => known.Where(f => f.Name == name || f.Short == name).OrderByDescending(f => f.TakesValue).FirstOrDefault();
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (a == "--") return null;
            if (!a.StartsWith('-')) return a;
            var token = a.Split('=', 2)[0];
            var flag = token.TrimStart('-');
            switch (Known(flag))
            {
                case null: throw UsageException.UnknownFlag(token);
                case { TakesValue: true } when !a.Contains('='): i++; break;
            }
        }
        return null;
    }

    /// <summary>The help asked for (`help [COMMAND]`, or `--help`/`-h` anywhere), or null.</summary>
    private static string? RequestedHelp(IReadOnlyList<string> args, string? name, IReadOnlyList<Command> commands)
    {
        if (name == "help") name = args.SkipWhile(a => a != "help").Skip(1).FirstOrDefault();
        else if (!Help.IsRequested(args)) return null;
        if (name == null) return Help.Program(commands);
        return Help.For(commands.FirstOrDefault(c => c.Name == name) ?? throw UnknownCommand(name));
    }

    private static UsageException UnknownCommand(string name) => new($"unknown command '{name}' (try '{ProgramInfo.Name} help')");

    private static ValueTask WriteAsync(Stream stdout, string text, CancellationToken ct) =>
        stdout.WriteAsync(System.Text.Encoding.UTF8.GetBytes(text), ct);

    /// <summary>One line for a person and the exit code for a script (by the failure's kind); never a stack trace.</summary>
    private static (int Code, string Message) Describe(Exception e) =>
        (ExitCodes.For(Failures.KindOf(e)), Failures.Cause(e) switch
        {
            OperationCanceledException => "interrupted",
            Run.SourceFailedException f => $"{f.Message}; no snapshot was saved",
            FileNotFoundInBackendException or CryptoException => $"the repository is damaged: {Failures.Cause(e).Message}",
            ClassifiedException or IOException or UnauthorizedAccessException or RemovalRefusedException => Failures.Cause(e).Message,
            var other => $"unexpected error ({other.GetType().Name}): {other.Message.ReplaceLineEndings(" ")}",
        });
}
