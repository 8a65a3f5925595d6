using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Backups.Aws;
using Backups.Core.Repositories;

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

    /// <summary>Where SSM Run Command names the one-time SecureString that holds the task token.</summary>
    public const string TokenParameterVariable = "BACKUP_AGENT_TASK_TOKEN_PARAMETER";

    /// <summary>
    /// Reports to Step Functions when a task token was given: by the workflow, as a one-time SecureString it
    /// names in the environment (read and deleted here: a token among the command's parameters would be readable
    /// by anyone who may list commands); by hand, in the environment or on the command line. Null otherwise.
    /// </summary>
    public static async Task<TaskReporter?> StartAsync(string? token, IReadOnlyDictionary<string, string> environment, int heartbeatSeconds, Secrets secrets, RunLog log,
        CancellationToken ct)
    {
        token ??= environment.GetValueOrDefault(TokenVariable);
        if (token == null && environment.GetValueOrDefault(TokenParameterVariable) is { Length: > 0 } parameter)
            token = await secrets.TakeTaskTokenAsync(parameter, ct);
        if (token == null) return null;
        secrets.Redactor.Add(token);
        var endpoint = environment.GetValueOrDefault("AWS_ENDPOINT_URL_SFN") ?? environment.GetValueOrDefault("AWS_ENDPOINT_URL");
        var client = new StepFunctionsClient(new AwsClientOptions
        {
            Credentials = new AwsCredentialSource(),
            ServiceUrl = endpoint != null ? new Uri(endpoint) : null,
        });
        return new TaskReporter(client, token, TimeSpan.FromSeconds(heartbeatSeconds), log);
    }

    /// <summary>
    /// Runs a job and tells the workflow how it ended: its result when it succeeded; when it did not, the
    /// result as the cause under the name of <paramref name="failure"/>; when it threw, the exception's kind.
    /// </summary>
    public async Task<T> ReportAsync<T>(Func<Task<T>> job, Func<T, bool> succeeded, ErrorKind failure, JsonTypeInfo<T> json, Secrets secrets)
    {
        T result;
        try
        {
            result = await job();
        }
        catch (Exception e)
        {
            await FailedAsync(ErrorName(e), secrets.Redactor.Redact(e.Message));
            throw;
        }
        var output = JsonSerializer.Serialize(result, json);
        if (succeeded(result)) await SucceededAsync(output);
        else await FailedAsync(ErrorName(failure), output);
        return result;
    }

    /// <summary>The error name the workflow's Catch and the failure email see for an exception: its kind's.</summary>
    public static string ErrorName(Exception e) => ErrorName(Failures.KindOf(e));

    /// <summary>The error name of each kind of failure (README's exit codes, in the workflow's words).</summary>
    public static string ErrorName(ErrorKind kind) => "BackupAgent." + kind switch
    {
        // A run reports its failed sources together, in its result.
        ErrorKind.SourceFailed => "SourcesFailed",
        _ => Failures.Name(kind),
    };

    public async Task SucceededAsync(string output)
    {
        await StopHeartbeatsAsync();
        await ReportAsync("success", () => _client.SendTaskSuccessAsync(_token, output));
    }

    /// <param name="error">The name the workflow's Catch sees (<see cref="ErrorName(ErrorKind)"/>).</param>
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
