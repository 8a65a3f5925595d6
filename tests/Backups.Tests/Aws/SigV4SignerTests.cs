using System.Text;
using Backups.Aws;
using Xunit;

namespace Backups.Tests.Aws;

public sealed class SigV4SignerTests
{
    private static readonly AwsCredentials Plain = new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");

    private static readonly AwsCredentials WithToken = new("ASIAEXAMPLE", "sEcReT/kEy+example",
        "FwoGZXIvYXdzEXAMPLE//////////wEaDP1tOkEn+x/y==");

    /// <summary>AWS's published test suite (aws-sig-v4-test-suite: get-vanilla, get-vanilla-query-order-key-case,
    /// post-x-www-form-urlencoded), which signs neither the body hash header nor a token.</summary>
    [Theory]
    [InlineData("GET", "https://example.amazonaws.com/", null, "",
        "host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")]
    [InlineData("GET", "https://example.amazonaws.com/?Param2=value2&Param1=value1", null, "",
        "host;x-amz-date", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")]
    [InlineData("POST", "https://example.amazonaws.com/", "application/x-www-form-urlencoded", "Param1=value1",
        "content-type;host;x-amz-date", "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a")]
    public void Matches_aws_test_suite(string method, string url, string? contentType, string body, string signedHeaders, string signature)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        using var request = Request(method, url, contentType, bytes);
        SigV4Signer.Sign(request, bytes, Plain, "us-east-1", "service",
            new DateTimeOffset(2015, 8, 30, 12, 36, 0, TimeSpan.Zero), addContentHashHeader: false);

        Assert.Equal(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            + $"SignedHeaders={signedHeaders}, Signature={signature}",
            Header(request, "Authorization"));
        Assert.Equal("20150830T123600Z", Header(request, "X-Amz-Date"));
        Assert.Null(Header(request, "X-Amz-Content-Sha256"));
    }

    public static TheoryData<string, string, string, string?, string?, string, bool> SdkCases()
    {
        var cases = new TheoryData<string, string, string, string?, string?, string, bool>();
        foreach (var token in new[] { false, true })
        {
            cases.Add("POST", "https://states.eu-west-1.amazonaws.com/", "states", "application/x-amz-json-1.0",
                "AWSStepFunctions.SendTaskSuccess", """{"taskToken":"AAAAKgAAAAIAAAAA+/=","output":"{\"ü\":\"✓ 𝄞\"}"}""", token);
            cases.Add("POST", "https://email.eu-west-1.amazonaws.com/v2/email/outbound-emails", "ses", "application/json",
                null, """{"FromEmailAddress":"backups@example.com"}""", token);
            // A stand-in on a non-default port: the port is part of the signed host.
            cases.Add("POST", "http://127.0.0.1:4566/", "states", "application/x-amz-json-1.0",
                "AWSStepFunctions.StartExecution", "{}", token);
            // Path and query canonicalization: spaces, '+', encoded slashes, repeated and valueless keys, a name that
            // is a prefix of another, UTF-8 (names that need encoding: see QueryIsSortedByEncodedNames).
            cases.Add("GET", "https://example.amazonaws.com/a b/c%2Fd/ü-~._?z=1&a=x y&a=b+c&flag&e=%2F&id-type=%E2%9C%93&id=1",
                "service", null, null, "", token);
        }
        return cases;
    }

    /// <summary>
    /// The same headers as AWSSDK.Core's own signer for the same request, credentials and time; the SDK adds and
    /// signs X-Amz-Content-SHA256 for every service, as does our signer by default.
    /// </summary>
    [Theory]
    [MemberData(nameof(SdkCases))]
    public void Agrees_with_aws_sdk_signer(string method, string url, string service, string? contentType, string? target,
        string body, bool sessionToken)
    {
        var credentials = sessionToken ? WithToken : Plain;
        var time = new DateTimeOffset(2026, 3, 14, 3, 2, 3, TimeSpan.FromHours(2));
        var bytes = Encoding.UTF8.GetBytes(body);
        using var request = Request(method, url, contentType, bytes);
        var toSign = new Dictionary<string, string>();
        if (contentType != null) toSign["Content-Type"] = contentType;
        if (target != null)
        {
            request.Headers.TryAddWithoutValidation("X-Amz-Target", target);
            toSign["X-Amz-Target"] = target;
        }

        SigV4Signer.Sign(request, bytes, credentials, "eu-west-1", service, time);
        var sdk = SdkSigner.Sign(new HttpMethod(method), new Uri(url), toSign, bytes, credentials, "eu-west-1", service, time);

        Assert.Equal(sdk["Authorization"], Header(request, "Authorization"));
        Assert.Equal(sdk["X-Amz-Date"], Header(request, "X-Amz-Date"));
        Assert.Equal("20260314T010203Z", Header(request, "X-Amz-Date"));
        Assert.Equal(sdk["X-Amz-Content-SHA256"], Header(request, "X-Amz-Content-Sha256"));
        Assert.Equal(sdk.GetValueOrDefault("X-Amz-Security-Token"), Header(request, "X-Amz-Security-Token"));
        Assert.Equal(credentials.SessionToken, Header(request, "X-Amz-Security-Token"));
    }

    /// <summary>
    /// SigV4 sorts parameters by their encoded names (as botocore's and the JS and PHP SDKs' signers do); AWSSDK.Core
    /// sorts decoded names, which differs only for names with characters that need encoding, like these.
    /// </summary>
    [Fact]
    public void Query_is_sorted_by_encoded_names()
    {
        Assert.Equal("%C3%BC=1&a%2Fb=2&a.b=3&z=", SigV4Signer.CanonicalQuery("?z&a.b=3&a%2Fb=2&%C3%BC=1"));
    }

    [Fact]
    public void Signing_again_replaces_the_earlier_signature()
    {
        var body = "{}"u8.ToArray();
        using var request = Request("POST", "https://states.eu-west-1.amazonaws.com/", "application/x-amz-json-1.0", body);
        SigV4Signer.Sign(request, body, WithToken, "eu-west-1", "states", DateTimeOffset.UnixEpoch);
        SigV4Signer.Sign(request, body, WithToken, "eu-west-1", "states", new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));

        var sdk = SdkSigner.Sign(HttpMethod.Post, request.RequestUri!, [new("Content-Type", "application/x-amz-json-1.0")],
            body, WithToken, "eu-west-1", "states", new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
        Assert.Equal(sdk["Authorization"], Header(request, "Authorization"));
        Assert.Single(request.Headers.NonValidated["X-Amz-Date"]);
    }

    [Fact]
    public void Credentials_do_not_print_their_secrets()
    {
        var text = $"{WithToken}";
        Assert.Contains(WithToken.AccessKeyId, text);
        Assert.DoesNotContain(WithToken.SecretAccessKey, text);
        Assert.DoesNotContain(WithToken.SessionToken!, text);
    }

    private static HttpRequestMessage Request(string method, string url, string? contentType, byte[] body)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (method != "GET") request.Content = new ByteArrayContent(body);
        if (contentType != null) request.Content!.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return request;
    }

    private static string? Header(HttpRequestMessage request, string name) =>
        request.Headers.NonValidated.TryGetValues(name, out var values) ? string.Join(',', values) : null;
}
