using System.Net.Http.Json;
using Backups.Functions.Contracts;

namespace Backups.Functions.Handlers.Notify;

/// <summary>
/// A chat webhook (Discord, Slack, or anything that takes either body). Its URL is a credential (whoever has it
/// can post), so it is a secret: masked like the others.
/// </summary>
public sealed class Webhook(Uri url, HttpClient http)
{
    // Discord rejects content over 2000 characters.
    private const int MaxLength = 1900;

    public async Task PostAsync(Message message, CancellationToken ct)
    {
        var text = $"{message.Subject}\n{message.Body}";
        if (text.Length > MaxLength) text = text[..MaxLength] + "...";
        using var response = await http.PostAsJsonAsync(url, new WebhookMessage(text, text), FunctionJson.Default.WebhookMessage, ct);
        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"the webhook answered HTTP {(int)response.StatusCode}");
    }
}
