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
        if (path == null && !output.Quiet) output.Message($"no --config: running the embedded demo (repository {config.Repository}, demo password)");
        using var secrets = new Secrets(environment);
        var log = RunLog.For(output, secrets.Redactor);
        await using var reporter = await TaskReporter.StartAsync(args.Value("task-token"), environment, config.HeartbeatSeconds, secrets, log, ct);
        var run = new NightlyRun(config, secrets, log);
        var options = new RunOptions(args.Values("source"), Tags.Parse(args.Values("tag")), CreateRepository: path == null);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        async Task<RunResult> Job()
        {
            await using var live = await output.ProgressAsync(() => Progress.Line(run, clock.Elapsed));
            using var stopLogging = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var logged = log.WantsProgress ? Progress.LogAsync(run, log, stopLogging.Token) : Task.CompletedTask;
            try
            {
                return await config.GuardAsync(() => run.ExecuteAsync(options, ct));
            }
            finally
            {
                await stopLogging.CancelAsync();
                await logged;
            }
        }
        var result = reporter == null ? await Job()
            : await reporter.ReportAsync(Job, r => r.Succeeded, ErrorKind.SourceFailed, RunJsonContext.Default.RunResult, secrets);
        if (output.Json) output.Line(JsonSerializer.Serialize(result, RunJsonContext.Default.RunResult));
        else
            foreach (var s in result.Sources)
            {
                // A failure or a file not saved is an error, which -q does not hide.
                if (!s.Succeeded) output.Line($"{s.Name}: FAILED: {s.Error}");
                else if (s.Warnings is { Count: > 0 } w) output.Line($"{Summary(s)}; not saved: {string.Join("; ", w)}");
                else output.Info(Summary(s));
            }
        if (!result.Succeeded) return ExitCodes.For(ErrorKind.SourceFailed);
        return result.Sources.Any(s => s.Warnings != null) ? ExitCodes.Incomplete : ExitCodes.Ok;
    }

    /// <summary>What a source read and what it added, before and after compression (deduplication shows here).</summary>
    private static string Summary(SourceResult s) =>
        $"{s.Name}: snapshot {s.SnapshotId?[..8]}, read {Size.Format(s.BytesRead)} in {s.DurationSeconds:0.0} s, " +
        $"added {Size.Format(s.BytesAdded)} ({Size.Format(s.BytesStored)} stored)";
}
