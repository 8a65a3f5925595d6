using System.Text.Json.Serialization;

namespace Backups.Aws;

/// <summary>SES v2 SendEmail (REST-JSON), standing in for AWSSDK.SimpleEmailV2, which the registry here lacks.</summary>
public sealed class SesV2Client(AwsClientOptions options)
{
    private readonly AwsJsonClient _client = new("ses", "email", options);

    public Uri Endpoint => _client.Endpoint;

    /// <summary>A simple (not raw, not templated) message in UTF-8.</summary>
    /// <returns>SES's message id.</returns>
    public async Task<string> SendEmailAsync(string from, IReadOnlyList<string> to, string subject, string textBody,
        string? htmlBody = null, CancellationToken cancellationToken = default)
    {
        var request = new SesSendEmailRequest(
            from,
            new SesDestination(to),
            new SesEmailContent(new SesMessage(
                new SesContent(subject),
                new SesBody(new SesContent(textBody), htmlBody is null ? null : new SesContent(htmlBody)))));
        var response = await _client.InvokeRestAsync(HttpMethod.Post, "/v2/email/outbound-emails", request,
            SesV2Json.Default.SesSendEmailRequest, SesV2Json.Default.SesSendEmailResponse,
            cancellationToken: cancellationToken);
        return response.MessageId;
    }
}

internal sealed record SesSendEmailRequest(string FromEmailAddress, SesDestination Destination, SesEmailContent Content);

internal sealed record SesDestination(IReadOnlyList<string> ToAddresses);

internal sealed record SesEmailContent(SesMessage Simple);

internal sealed record SesMessage(SesContent Subject, SesBody Body);

internal sealed record SesBody(SesContent Text, SesContent? Html);

internal sealed record SesContent(string Data)
{
    public string Charset => "UTF-8";
}

internal sealed record SesSendEmailResponse(string MessageId);

/// <summary>SES v2 spells its members in PascalCase, as the records do.</summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(SesSendEmailRequest))]
[JsonSerializable(typeof(SesSendEmailResponse))]
internal sealed partial class SesV2Json : JsonSerializerContext;
