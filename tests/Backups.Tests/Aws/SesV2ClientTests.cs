using System.Text.Json.Nodes;
using Amazon.Runtime;
using Backups.Aws;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Aws;

public sealed class SesV2ClientTests(SesLocalFixture ses) : IClassFixture<SesLocalFixture>
{
    private const string Region = "eu-west-1";
    private static readonly BasicAWSCredentials Credentials = new("AKIASESEXAMPLE", "ses/secret");

    [Fact]
    public async Task Sends_a_rest_json_request_signed_for_ses()
    {
        await using var endpoint = new RecordingAwsEndpoint();
        endpoint.Script("/v2/email/outbound-emails", new ScriptedResponse(200, """{"MessageId":"0100-example"}"""));

        var id = await Client(endpoint.Url).SendEmailAsync("backups@example.com", ["ops@example.com"], "Backup failed", "text");

        Assert.Equal("0100-example", id);
        var request = Assert.Single(endpoint.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/v2/email/outbound-emails", request.Path);
        Assert.Equal("application/json", request.Header("Content-Type"));
        Assert.Null(request.Target);
        Assert.Matches($"^AWS4-HMAC-SHA256 Credential=AKIASESEXAMPLE/[0-9]{{8}}/{Region}/ses/aws4_request, "
            + "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$", request.Header("Authorization"));
        var expected = new JsonObject
        {
            ["FromEmailAddress"] = "backups@example.com",
            ["Destination"] = new JsonObject { ["ToAddresses"] = new JsonArray("ops@example.com") },
            ["Content"] = new JsonObject
            {
                ["Simple"] = new JsonObject
                {
                    ["Subject"] = new JsonObject { ["Data"] = "Backup failed", ["Charset"] = "UTF-8" },
                    ["Body"] = new JsonObject { ["Text"] = new JsonObject { ["Data"] = "text", ["Charset"] = "UTF-8" } },
                },
            },
        };
        Assert.True(JsonNode.DeepEquals(expected, request.Json), request.BodyText);
    }

    /// <summary>REST-JSON names the error in the x-amzn-ErrorType header, not in the body.</summary>
    [Fact]
    public async Task The_error_type_header_gives_the_code()
    {
        await using var endpoint = new RecordingAwsEndpoint();
        endpoint.Script("/v2/email/outbound-emails", new ScriptedResponse(400, """{"message":"Email address is not verified."}""",
            new Dictionary<string, string> { ["x-amzn-ErrorType"] = "MessageRejected:http://internal.amazon.com/coral/com.amazonaws.sesv2/" }));

        var e = await Assert.ThrowsAsync<AwsServiceException>(() =>
            Client(endpoint.Url).SendEmailAsync("backups@example.com", ["ops@example.com"], "s", "t"));

        Assert.Equal("MessageRejected", e.ErrorCode);
        Assert.Equal("Email address is not verified.", e.ServiceMessage);
        Assert.Single(endpoint.Requests);
    }

    [Fact]
    public async Task Sends_through_aws_ses_v2_local()
    {
        var subject = $"Backup failed {Guid.NewGuid():N} – ü ✓";

        var id = await Client(ses.Endpoint).SendEmailAsync("backups@example.com", ["ops@example.com", "oncall@example.com"],
            subject, "restic exited 1\nrepository locked", "<p>restic exited <b>1</b></p>");

        var email = Assert.Single(await ses.StoredEmailsAsync(), e => e!["subject"]!.GetValue<string>() == subject)!;
        Assert.Equal(id, email["messageId"]!.GetValue<string>());
        Assert.Equal("backups@example.com", email["from"]!.GetValue<string>());
        Assert.Equal(["ops@example.com", "oncall@example.com"], email["destination"]!["to"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.Equal("restic exited 1\nrepository locked", email["body"]!["text"]!.GetValue<string>());
        Assert.Equal("<p>restic exited <b>1</b></p>", email["body"]!["html"]!.GetValue<string>());
    }

    [Fact]
    public void The_default_endpoint_is_the_regional_one() =>
        Assert.Equal(new Uri("https://email.eu-west-1.amazonaws.com/"),
            new SesV2Client(new AwsClientOptions { Credentials = new AwsCredentialSource(Region, Credentials) }).Endpoint);

    private static SesV2Client Client(Uri url) => new(new AwsClientOptions
    {
        Credentials = new AwsCredentialSource(Region, Credentials),
        ServiceUrl = url,
        Retry = new AwsRetrySettings(MaxAttempts: 2, FirstDelay: TimeSpan.FromMilliseconds(1), MaxDelay: TimeSpan.FromMilliseconds(5)),
    });
}
