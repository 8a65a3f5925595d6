namespace Backups.Functions.Handlers.Notify;

/// <summary>One notification, as the email's subject and plain-text body (the webhook posts both).</summary>
public sealed record Message(string Subject, string Body);
