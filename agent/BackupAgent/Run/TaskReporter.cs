using System.Text.Json;
using Backups.Aws;

namespace BackupAgent.Run;

/// <summary>
/// Reports a run to the Step Functions task that started it: heartbeats while it works, then the result
/// (SendTaskSuccess) or the failure with an error name the workflow can catch (SendTaskFailure). A reporting
/// problem is logged, never allowed to change what the backup did.
/// </summary>
public sealed class TaskReporter : IAsyncDisposable
{
    /// <summary>Where SSM Run Command hands the agent its task token (never on the command line).</summary>
    public const string TokenVariable = "BACKUP_AGENT_TASK_TOKEN";

    private readonly StepFunctionsClient _client;
    private readonly string _token;
    private readonly RunLog _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _heartbeats;

    public TaskReporter(StepFunctionsClient client, string token, TimeSpan heartbeat, RunLog log)
    {
        _client = client;
        _token = token;
        _log = log;
        _heartbeats = HeartbeatAsync(heartbeat);
    }

    private async Task HeartbeatAsync(TimeSpan interval)
    {
        try
        {
            while (true)
            {
                await Task.Delay(interval, _stop.Token);
                try
                {
                    await _client.SendTaskHeartbeatAsync(_token, _stop.Token);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _log.Warn("heartbeat failed", ("error", e.Message));
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    public async Task SucceededAsync(RunResult result)
    {
        await StopHeartbeatsAsync();
        await ReportAsync("success", () => _client.SendTaskSuccessAsync(_token, JsonSerializer.Serialize(result, RunJsonContext.Default.RunResult)));
    }

    /// <param name="error">The name the workflow's Catch sees, e.g. BackupAgent.SourcesFailed.</param>
    /// <param name="cause">Why, for the failure email (the run's result when there is one); secrets masked.</param>
    public async Task FailedAsync(string error, string cause)
    {
        await StopHeartbeatsAsync();
        await ReportAsync("failure", () => _client.SendTaskFailureAsync(_token, error, cause));
    }

    private async Task ReportAsync(string what, Func<Task> send)
    {
        try
        {
            await send();
            _log.Info($"reported {what} to the workflow");
        }
        catch (Exception e)
        {
            _log.Error($"could not report {what} to the workflow", ("error", e.Message));
            throw;
        }
    }

    private async Task StopHeartbeatsAsync()
    {
        await _stop.CancelAsync();
        await _heartbeats;
    }

    public async ValueTask DisposeAsync()
    {
        await StopHeartbeatsAsync();
        _stop.Dispose();
    }
}
