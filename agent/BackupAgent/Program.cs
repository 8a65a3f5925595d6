using System.Collections;
using System.Runtime.InteropServices;
using BackupAgent.Cli;
using BackupAgent.Commands;
using Backups.Core;
using Backups.Core.Backends;
using Backups.Core.Crypto;
using Backups.Core.Repository;

namespace BackupAgent;

public static class Program
{
    private static Command[] Commands(IReadOnlyDictionary<string, string> env) =>
    [
        new InitCommand(), new BackupCommand(), new SnapshotsCommand(), new LsCommand(), new DumpCommand(),
        new RestoreCommand(), new CatCommand(), new CheckCommand(), new RunCommand(env), new DrillCommand(env), new ForgetCommand(),
        new PruneCommand(), new UnlockCommand(),
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
        return await RunAsync(args, env, Console.OpenStandardOutput(), Console.Error, cts.Token);
    }

    public static async Task<int> RunAsync(IReadOnlyList<string> args, IReadOnlyDictionary<string, string> env, Stream stdout, TextWriter stderr, CancellationToken ct)
    {
        try
        {
            if (args.Count == 1 && args[0] is "--version" or "version")
            {
                await stdout.WriteAsync(System.Text.Encoding.UTF8.GetBytes(ProgramInfo.Version + "\n"), ct);
                return ExitCodes.Ok;
            }
            var name = CommandName(args);
            if (name is null or "help")
            {
                stderr.WriteLine($"usage: {ProgramInfo.Name} [-r REPO] [--password-file FILE] [--cacert PEM] [--json] COMMAND ...");
                foreach (var c in Commands(env)) stderr.WriteLine($"  {c.Usage}");
                return name == null && !args.Contains("--help") && !args.Contains("-h") ? ExitCodes.Usage : ExitCodes.Ok;
            }
            var command = Commands(env).FirstOrDefault(c => c.Name == name) ?? throw new UsageException($"unknown command '{name}' (try '{ProgramInfo.Name} help')");
            var parsed = Arguments.Parse(args,
                Merge(GlobalOptions.ValueFlags, command.ValueFlags), Merge(GlobalOptions.SwitchFlags, command.SwitchFlags));
            var global = new GlobalOptions(parsed, env);
            return await command.RunAsync(parsed, global, new Output(stdout, stderr, global.Json), ct);
        }
        catch (Exception e)
        {
            var (code, message) = Describe(e, ct);
            stderr.WriteLine($"{ProgramInfo.Name}: {message}");
            return code;
        }
    }

    /// <summary>The first word that is neither a global flag nor a global flag's value.</summary>
    private static string? CommandName(IReadOnlyList<string> args)
    {
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (a == "--") return null;
            if (!a.StartsWith('-')) return a;
            var flag = a.TrimStart('-');
            if (!a.Contains('=') && GlobalOptions.ValueFlags.Any(f => f.Key == flag || f.Value == flag)) i++;
        }
        return null;
    }

    private static Dictionary<string, string?> Merge(IReadOnlyDictionary<string, string?> a, IReadOnlyDictionary<string, string?> b)
    {
        var result = new Dictionary<string, string?>(a);
        foreach (var (k, v) in b) result[k] = v;
        return result;
    }

    /// <summary>One line for a person and the exit code for a script; never a stack trace.</summary>
    private static (int Code, string Message) Describe(Exception e, CancellationToken ct) => e switch
    {
        OperationCanceledException when ct.IsCancellationRequested => (ExitCodes.Interrupted, "interrupted"),
        UsageException u => (ExitCodes.Usage, u.Message),
        Run.ConfigException c => (ExitCodes.Usage, c.Message),
        Run.SourceFailedException f => (ExitCodes.SourceFailed, $"{f.Message}; no snapshot was saved"),
        RepositoryLocationException l => (ExitCodes.Usage, l.Message),
        RepositoryException r => (ExitCodes.For(r.Kind), r.Message),
        BackendUnavailableException b => (ExitCodes.Unavailable, b.Message),
        FileNotFoundInBackendException f => (ExitCodes.Damaged, $"the repository is damaged: {f.Message}"),
        RemovalRefusedException r => (ExitCodes.Failure, r.Message),
        CryptoException c => (ExitCodes.Damaged, $"the repository is damaged: {c.Message}"),
        IOException { InnerException: { } inner } => Describe(inner, ct),
        IOException io => (ExitCodes.Failure, io.Message),
        UnauthorizedAccessException ua => (ExitCodes.Failure, ua.Message),
        AggregateException { InnerExceptions.Count: > 0 } agg => Describe(agg.InnerExceptions[0], ct),
        _ => (ExitCodes.Failure, $"unexpected error ({e.GetType().Name}): {e.Message.ReplaceLineEndings(" ")}"),
    };
}
