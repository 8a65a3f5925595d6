using Backups.Aws;
using Backups.Aws.Secrets;
using Backups.Functions.Contracts;
using Backups.Functions.Repositories;
using Backups.Functions.Runtime;

namespace Backups.Functions.Handlers.Notify;

/// <summary>
/// Tells people how the night went: an email through SES v2 (and optionally a chat webhook) when a step failed,
/// and a success summary on the cadence of <see cref="MonthlySummary"/>. Nothing it sends contains a secret: the
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

        Message message;
        if (input.Outcome == NotifyOutcome.Failure)
        {
            // The failure may be the repository itself (wrong password, unreachable): the email goes out anyway.
            SourceHistory? history = null;
            string? problem = null;
            try
            {
                // The email matters more than the history in it: a store out of reach is not waited for long.
                history = await _repository.LoadHistoryAsync(context, HistoryWait);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                problem = $"{ErrorNames.Of(e)}: {e.Message}";
            }
            message = FailureReport.Compose(input, host, history, problem, _where, _environment.Time.GetUtcNow());
            if (history != null && input.ExecutionStartTime is { } failedStart && MonthlySummary.NotDueReason(_cadence, history, failedStart) == null)
                message = await WithSummaryAsync(message, history, host, input, context);
        }
        else
        {
            if (input.ExecutionStartTime is not { } start)
                throw new InvalidInputException("invalid input at $.executionStartTime: required for a success notification");
            await using var repo = await _repository.OpenAsync(context);
            var history = new SourceHistory(await repo.LoadSnapshotsAsync(ct));
            var warnings = WarningReport.Compose(input, host, _where);
            if (MonthlySummary.NotDueReason(_cadence, history, start) is { } reason)
            {
                if (warnings == null) return new NotifyResult(Sent: false, MessageId: null, Subject: null, WebhookSent: false, Reason: reason);
                message = warnings;
            }
            else
            {
                message = await MonthlySummary.ComposeAsync(repo, history, host, input, _where, _cold, ct);
                if (warnings != null) message = new Message(warnings.Subject, warnings.Body + "\n" + message.Body, message.Html);
            }
        }

        message = new Message(_environment.Clean(message.Subject), _environment.Clean(message.Body), message.Html is { } html ? _environment.Clean(html) : null);
        var id = await _ses.SendEmailAsync(_sender, _recipients, message.Subject, message.Body, message.Html, ct);
        if (webhook != null) webhookError = await PostAsync(webhook, message, ct);
        return new NotifyResult(Sent: true, id, message.Subject, WebhookSent: webhook != null && webhookError == null, webhookError);
    }

    /// <summary>
    /// A failed run that is the month's first (no snapshot of the month before it started) still brings the month's
    /// summary, under the failure: the cadence is stateless, so a month whose first run failed part-way would
    /// otherwise have none (its later successes find this run's snapshots and are not the month's first). The
    /// summary is best effort: the failure email goes out without it when the repository cannot be read in time.
    /// </summary>
    private async Task<Message> WithSummaryAsync(Message failure, SourceHistory history, string host, NotifyInput input, InvocationContext context)
    {
        try
        {
            await using var repo = await _repository.OpenAsync(context, HistoryWait);
            var summary = await MonthlySummary.ComposeAsync(repo, history, host, input, _where, _cold, context.CancellationToken, preface: failure.Body);
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
