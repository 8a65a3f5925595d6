using System.Text.Json;
using BackupAgent.Cli;
using BackupAgent.Run;
using Backups.Aws;
using Backups.Core.Backends;
using Backups.Core.Repositories;

namespace BackupAgent.Commands;

public sealed class RunCommand(IReadOnlyDictionary<string, string> environment) : Command
{
    public override string Name => "run";
    public override string Usage => "run [--config FILE] [flags]: the nightly job: back up every source of the config";
    public override IReadOnlyList<Flag> Flags { get; } =
    [
        Flag.Valued("config", "FILE", "the run's config (default: the embedded demo, into ./.demo)", "c"),
        Flag.Valued("source", "NAME", "back up only this source (repeatable)"),
        Flag.Valued("tag", "T[,T...]", "add tags to every snapshot of this run (repeatable)"),
        Flag.Valued("task-token", "TOKEN", $"report to this Step Functions task (default: ${TaskReporter.TokenVariable})"),
    ];

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        var path = args.Value("config");
        var config = path == null ? RunConfig.EmbeddedDefault() : RunConfig.Load(path);
        if (path == null) output.Message($"no --config: running the embedded demo (repository {config.Repository}, demo password)");
        using var secrets = new Secrets(environment);
        var log = new RunLog(Console.Error, secrets.Redactor);
        await using var reporter = await TaskReporter.StartAsync(args.Value("task-token"), environment, config.HeartbeatSeconds, secrets, log, ct);
        var run = new NightlyRun(config, secrets, log);
        var options = new RunOptions(args.Values("source"), Tags.Parse(args.Values("tag")), CreateRepository: path == null);

        using var stopProgress = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var progress = Progress.ReportAsync(run, log, Console.Error, isTerminal: !Console.IsErrorRedirected, stopProgress.Token);
        async Task<RunResult> Job()
        {
            try
            {
                return await config.GuardAsync(() => run.ExecuteAsync(options, ct));
            }
            finally
            {
                await stopProgress.CancelAsync();
                await progress;
            }
        }
        var result = reporter == null ? await Job()
            : await reporter.ReportAsync(Job, r => r.Succeeded, ErrorKind.SourceFailed, RunJsonContext.Default.RunResult, secrets);
        if (output.Json) output.Line(JsonSerializer.Serialize(result, RunJsonContext.Default.RunResult));
        else
            foreach (var s in result.Sources)
                output.Line(s.Succeeded
                    ? $"{s.Name}: snapshot {s.SnapshotId?[..8]}, read {Size.Format(s.BytesRead)}, added {Size.Format(s.BytesAdded)} in {s.DurationSeconds:0.0} s"
                      + (s.Warnings is { Count: > 0 } w ? $"; not saved: {string.Join("; ", w)}" : "")
                    : $"{s.Name}: FAILED: {s.Error}");
        if (!result.Succeeded) return ExitCodes.For(ErrorKind.SourceFailed);
        return result.Sources.Any(s => s.Warnings != null) ? ExitCodes.Incomplete : ExitCodes.Ok;
    }
}
