using System.Text.Json;
using BackupAgent.Cli;
using BackupAgent.Run;
using Backups.Aws;
using Backups.Core.Backends;
using Backups.Core.Repository;

namespace BackupAgent.Commands;

public sealed class RunCommand(IReadOnlyDictionary<string, string> environment) : Command
{
    public override string Name => "run";
    public override string Usage =>
        "run [--config FILE] [--source NAME]... [--tag T]...: the nightly job (without --config: the embedded demo into ./.demo); " +
        $"with a Step Functions task token in {TaskReporter.TokenVariable} it reports to the workflow";
    public override IReadOnlyDictionary<string, string?> ValueFlags { get; } = new Dictionary<string, string?>
    {
        ["config"] = "c", ["source"] = null, ["tag"] = null, ["task-token"] = null,
    };

    public override async Task<int> RunAsync(Arguments args, GlobalOptions global, Output output, CancellationToken ct)
    {
        var path = args.Value("config");
        var config = path == null ? RunConfig.EmbeddedDefault() : RunConfig.Load(path);
        if (path == null) output.Message($"no --config: running the embedded demo (repository {config.Repository}, demo password)");
        using var secrets = new Secrets(environment);
        var log = new RunLog(Console.Error, secrets.Redactor);
        await using var reporter = Reporter(args.Value("task-token") ?? environment.GetValueOrDefault(TaskReporter.TokenVariable), config, secrets, log);
        var run = new NightlyRun(config, secrets, log);
        var options = new RunOptions(args.Values("source"), Tags.Parse(args.Values("tag")), CreateRepository: path == null);

        using var stopProgress = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var progress = Progress.ReportAsync(run, log, Console.Error, isTerminal: !Console.IsErrorRedirected, stopProgress.Token);
        RunResult result;
        try
        {
            result = await run.ExecuteAsync(options, ct);
        }
        catch (Exception e) when (reporter != null)
        {
            await reporter.FailedAsync(ErrorName(e), secrets.Redactor.Redact(e.Message));
            throw;
        }
        finally
        {
            await stopProgress.CancelAsync();
            await progress;
        }

        if (reporter != null)
        {
            if (result.Succeeded) await reporter.SucceededAsync(result);
            else await reporter.FailedAsync("BackupAgent.SourcesFailed", JsonSerializer.Serialize(result, RunJsonContext.Default.RunResult));
        }
        if (output.Json) output.Line(JsonSerializer.Serialize(result, RunJsonContext.Default.RunResult));
        else
            foreach (var s in result.Sources)
                output.Line(s.Succeeded
                    ? $"{s.Name}: snapshot {s.SnapshotId?[..8]}, read {Size.Format(s.BytesRead)}, added {Size.Format(s.BytesAdded)} in {s.DurationSeconds:0.0} s"
                    : $"{s.Name}: FAILED: {s.Error}" + (s.SnapshotId != null ? $" (incomplete snapshot {s.SnapshotId[..8]})" : ""));
        return result.Succeeded ? ExitCodes.Ok : result.Sources.Any(s => s.SnapshotId == null) ? ExitCodes.SourceFailed : ExitCodes.Incomplete;
    }

    /// <summary>Reports to Step Functions when a task token was given (SSM Run Command passes it in the
    /// environment: a token on the command line would be visible in every process list).</summary>
    private TaskReporter? Reporter(string? token, RunConfig config, Secrets secrets, RunLog log)
    {
        if (token == null) return null;
        secrets.Redactor.Add(token);
        var endpoint = environment.GetValueOrDefault("AWS_ENDPOINT_URL_SFN") ?? environment.GetValueOrDefault("AWS_ENDPOINT_URL");
        var client = new StepFunctionsClient(new AwsClientOptions
        {
            Credentials = new AwsCredentialSource(),
            ServiceUrl = endpoint != null ? new Uri(endpoint) : null,
        });
        return new TaskReporter(client, token, TimeSpan.FromSeconds(config.HeartbeatSeconds), log);
    }

    /// <summary>The error name the workflow's Catch and the failure email see, by kind of failure.</summary>
    private static string ErrorName(Exception e) => e switch
    {
        ConfigException => "BackupAgent.ConfigError",
        RepositoryException r => $"BackupAgent.{r.Kind}",
        BackendUnavailableException => "BackupAgent.Unavailable",
        OperationCanceledException => "BackupAgent.Interrupted",
        _ => "BackupAgent.Error",
    };
}
