namespace Backups.Functions.Handlers.Notify;

/// <summary>One notification, as the email's subject and plain-text body (the webhook posts both), and an HTML
/// body for mail clients when it has a chart (the monthly summary).</summary>
public sealed record Message(string Subject, string Body, string? Html = null);
