using Backups.Aws;
using Backups.Aws.Secrets;
using Backups.Core.Reporting;
using Backups.Functions.Contracts;
using Backups.Functions.Repositories;
using Backups.Functions.Runtime;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Functions.Handlers.Notify;

/// <summary>
/// Tells people how the night went: an email through SES v2 (and optionally a chat webhook) when a step failed,
/// and the month's summary on the cadence of <see cref="MonthlySummary"/>; and it adds every execution, succeeded or
/// failed, to the run history beside the repository (<see cref="RunHistoryStore"/>: status/, which needs
/// s3:PutObject and s3:DeleteObject on that folder), which `backup-agent status` reads. Nothing it sends contains a secret: the
/// secrets it knows (repository password, NOTIFY_REDACT_SSM_PARAMETERS such as database passwords, the webhook
/// URL) are masked, and so is anything that looks like one (<see cref="SecretScrubber"/>), task tokens included.
/// </summary>
/// <remarks>Environment: NOTIFY_SENDER, NOTIFY_RECIPIENTS (comma-separated), BACKUP_HOST, BACKUP_LOG_GROUP,
/// NOTIFY_WEBHOOK_URL or NOTIFY_WEBHOOK_URL_SSM_PARAMETER, NOTIFY_REDACT_SSM_PARAMETERS, NOTIFY_SUCCESS_SUMMARY
/// (monthly, always, never), the repository's (<see cref="FunctionRepository"/>), AWS_REGION and
/// AWS_ENDPOINT_URL_SESV2 / AWS_ENDPOINT_URL.</remarks>
public sealed class NotifyFunction
{
    private static readonly HttpClient WebhookHttp = new() { Timeout = TimeSpan.FromSeconds(15) };

    private readonly FunctionEnvironment _environment;
    private readonly FunctionRepository _repository;
    private readonly SesV2Client _ses;
    private readonly string _sender;
    private readonly IReadOnlyList<string> _recipients;
    private readonly string _cadence;
    private readonly SecretRef? _webhook;
    private readonly IReadOnlyList<SecretRef> _otherSecrets;
    private readonly NotifyLocations _where;
    private readonly MonthlySummary.ColdTier _cold;

    public NotifyFunction(FunctionEnvironment environment)
    {
        _environment = environment;
        _repository = new FunctionRepository(environment);
        _ses = new SesV2Client(environment.AwsClient("AWS_ENDPOINT_URL_SESV2"));
        _sender = environment.Required("NOTIFY_SENDER");
        _recipients = List(environment.Required("NOTIFY_RECIPIENTS"));
        _cadence = environment.Optional(MonthlySummary.CadenceVariable) ?? "monthly";
        if (_cadence is not ("monthly" or "always" or "never"))
            throw new ConfigurationException($"{MonthlySummary.CadenceVariable} must be monthly, always or never");
        _webhook = (environment.Optional("NOTIFY_WEBHOOK_URL"), environment.Optional("NOTIFY_WEBHOOK_URL_SSM_PARAMETER")) switch
        {
            (null, null) => null,
            ({ }, null) => new SecretRef { Env = "NOTIFY_WEBHOOK_URL" },
            (null, { } parameter) => new SecretRef { Ssm = parameter },
            _ => throw new ConfigurationException("set at most one of NOTIFY_WEBHOOK_URL, NOTIFY_WEBHOOK_URL_SSM_PARAMETER"),
        };
        _otherSecrets = List(environment.Optional("NOTIFY_REDACT_SSM_PARAMETERS") ?? "").Select(p => new SecretRef { Ssm = p }).ToList();
        var coldClass = environment.Optional(MonthlySummary.ColdTier.ClassVariable) ?? "GLACIER_IR";
        if (!Backups.Core.Reporting.StorageCost.TryParseColdClass(coldClass, out var cold))
            throw new ConfigurationException($"{MonthlySummary.ColdTier.ClassVariable} must be GLACIER_IR, STANDARD_IA or none");
        var coldDays = environment.Optional(MonthlySummary.ColdTier.DaysVariable) ?? "30";
        _cold = new MonthlySummary.ColdTier(cold, int.TryParse(coldDays, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var days)
            ? days : throw new ConfigurationException($"{MonthlySummary.ColdTier.DaysVariable} must be a whole number of days"));
        _where = new NotifyLocations(new ConsoleLinks(environment.Region), environment.Optional("BACKUP_LOG_GROUP"),
            environment.Optional("AWS_LAMBDA_LOG_GROUP_NAME"));
    }

    private static readonly TimeSpan HistoryWait = TimeSpan.FromMinutes(1);

    public async Task<NotifyResult> NotifyAsync(NotifyInput input, InvocationContext context)
    {
        var ct = context.CancellationToken;
        // Known before anything is composed, so that the redactor masks them wherever they turn up.
        foreach (var secret in _otherSecrets) await _environment.Secrets.ResolveAsync(secret, ct);
        var (webhook, webhookError) = await WebhookAsync(ct);
        var host = input.Host ?? _environment.Optional("BACKUP_HOST") ?? "(host not named)";
        var failed = input.Outcome == NotifyOutcome.Failure;
        if (!failed && input.ExecutionStartTime == null)
            throw new InvalidInputException("invalid input at $.executionStartTime: required for a success notification");

        // A failure may be the repository itself (wrong password, unreachable): its email goes out anyway, and
        // the store is not waited for long, as the email matters more than the history in it.
        Repo? repo = null;
        SourceHistory? snapshots = null;
        string? problem = null;
        try
        {
            repo = await _repository.OpenAsync(context, failed ? HistoryWait : null);
            snapshots = new SourceHistory(await repo.LoadSnapshotsAsync(ct));
        }
        catch (Exception e) when (failed && e is not OperationCanceledException)
        {
            problem = $"{ErrorNames.Of(e)}: {e.Message}";
        }
        await using var opened = repo;
        var (runs, historyError) = repo == null ? (null, problem) : await RunHistoryAsync(repo, ct);
        var notDue = snapshots == null ? "the repository could not be read"
            : input.ExecutionStartTime is { } start ? MonthlySummary.NotDueReason(_cadence, runs, snapshots, host, start) : "the execution's start is not given";

        Message? message;
        if (failed)
        {
            message = FailureReport.Compose(input, host, snapshots, problem, _where, _environment.Time.GetUtcNow());
            if (notDue == null) message = await WithSummaryAsync(message, repo!, snapshots!, host, input, ct);
        }
        else
        {
            var warnings = WarningReport.Compose(input, host, _where);
            message = notDue != null ? warnings : await MonthlySummary.ComposeAsync(repo!, snapshots!, host, input, _where, _cold, ct);
            if (notDue == null && warnings != null) message = new Message(warnings.Subject, warnings.Body + "\n" + message!.Body, message.Html);
        }

        string? id = null;
        if (message != null)
        {
            message = new Message(_environment.Clean(message.Subject), _environment.Clean(message.Body), message.Html is { } html ? _environment.Clean(html) : null);
            id = await _ses.SendEmailAsync(_sender, _recipients, message.Subject, message.Body, message.Html, ct);
            if (webhook != null) webhookError = await PostAsync(webhook, message, ct);
        }
        // Recorded once the email is out: a history that cannot be written costs a summary sent twice, never one missed.
        if (repo != null && snapshots != null && historyError == null)
            historyError = await RecordAsync(repo, input, host, snapshots!, summarySent: notDue == null && message?.Html != null, ct);
        return message == null
            ? new NotifyResult(Sent: false, MessageId: null, Subject: null, WebhookSent: false, Reason: notDue, HistoryError: historyError)
            : new NotifyResult(Sent: true, id, message.Subject, WebhookSent: webhook != null && webhookError == null, webhookError, HistoryError: historyError);
    }

    /// <summary>The run history, or why it cannot be read (then it is not written either: that would lose it).</summary>
    private static async Task<(RunHistory? Runs, string? Error)> RunHistoryAsync(Repo repo, CancellationToken ct)
    {
        try
        {
            return (await RunHistoryStore.LoadAsync(repo, ct) ?? new RunHistory(), null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return (null, $"the run history could not be read: {ErrorNames.Of(e)}: {e.Message}");
        }
    }

    private async Task<string?> RecordAsync(Repo repo, NotifyInput input, string host, SourceHistory snapshots, bool summarySent, CancellationToken ct)
    {
        var now = _environment.Time.GetUtcNow();
        try
        {
            await RunHistoryStore.UpdateAsync(repo, history =>
            {
                var known = snapshots.Sources.Union(history.Runs.SelectMany(r => r.Sources.Select(s => s.Source)));
                history.Add(RunEntry.Compose(input, host, now, known, _environment.Clean));
                if (summarySent) history.RecordSummary(host, input.ExecutionStartTime!.Value, now);
            }, ct);
            return null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return _environment.Clean($"the run could not be added to the run history: {ErrorNames.Of(e)}: {e.Message}");
        }
    }

    /// <summary>
    /// The month's summary rides along with a failure that is the month's first run, under the failure. It is
    /// best effort: the failure email goes out without it when the repository cannot be read in time.
    /// </summary>
    private async Task<Message> WithSummaryAsync(Message failure, Repo repo, SourceHistory history, string host, NotifyInput input, CancellationToken ct)
    {
        try
        {
            var summary = await MonthlySummary.ComposeAsync(repo, history, host, input, _where, _cold, ct, preface: failure.Body);
            return new Message(failure.Subject, failure.Body + "\n" + summary.Body, summary.Html);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new Message(failure.Subject, failure.Body + $"\n(the monthly summary could not be composed: {ErrorNames.Of(e)}: {e.Message})\n");
        }
    }

    /// <summary>Resolved before anything is composed, so that its URL (a credential) is masked too. A webhook
    /// that fails does not fail the notification: the email goes out, and a retry would send it twice.</summary>
    private async Task<(Webhook? Webhook, string? Error)> WebhookAsync(CancellationToken ct)
    {
        if (_webhook == null) return (null, null);
        try
        {
            return (new Webhook(new Uri(await _environment.Secrets.ResolveAsync(_webhook, ct)), WebhookHttp), null);
        }
        catch (Exception e) when (e is SecretException or UriFormatException)
        {
            return (null, _environment.Clean(e.Message));
        }
    }

    private async Task<string?> PostAsync(Webhook webhook, Message message, CancellationToken ct)
    {
        try
        {
            await webhook.PostAsync(message, ct);
            return null;
        }
        catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !ct.IsCancellationRequested))
        {
            return _environment.Clean(e.Message);
        }
    }

    private static List<string> List(string commaSeparated) =>
        [.. commaSeparated.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
}
