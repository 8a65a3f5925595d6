using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Backups.Aws;

/// <summary>
/// Calls one AWS service over its JSON protocol: AWS JSON 1.0 (an X-Amz-Target header names the action, e.g.
/// Step Functions) or REST-JSON (the method and path name it, e.g. SES v2). Every attempt is signed afresh;
/// 5xx, throttling and broken connections are retried with backoff; error answers become
/// <see cref="AwsServiceException"/>.
/// </summary>
public sealed class AwsJsonClient
{
    private const string Redacted = "[redacted]";
    private const int MaxMessageLength = 1024;

    private static readonly HttpClient SharedHttp = new(new SocketsHttpHandler
    {
        // DNS changes (endpoint fail-over) reach long-lived processes.
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        // A followed redirect would replay a signature made for another URL.
        AllowAutoRedirect = false,
    });

    // AWSSDK's throttling and transient error codes; a 4xx with one of these is worth another attempt.
    private static readonly HashSet<string> RetryableCodes = new(StringComparer.Ordinal)
    {
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
        "BandwidthLimitExceeded", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
        "RequestTimeout", "RequestTimeoutException",
    };

    private readonly string _signingName;
    private readonly AwsClientOptions _options;
    private readonly HttpClient _http;

    /// <param name="signingName">The service name in the signature's scope, e.g. "states", "ses".</param>
    /// <param name="endpointPrefix">The first label of the regional host name, e.g. "states", "email".</param>
    public AwsJsonClient(string signingName, string endpointPrefix, AwsClientOptions options)
    {
        if (options.Retry.MaxAttempts < 1) throw new ArgumentException("Retry.MaxAttempts must be at least 1", nameof(options));
        _signingName = signingName;
        _options = options;
        _http = options.HttpClient ?? SharedHttp;
        Endpoint = options.ServiceUrl ?? new Uri($"https://{endpointPrefix}.{options.Credentials.Region}.amazonaws.com/");
    }

    public Uri Endpoint { get; }

    /// <summary>An AWS JSON 1.0 call: POST / with the action in X-Amz-Target (e.g. "AWSStepFunctions.SendTaskSuccess").</summary>
    /// <param name="secrets">Values of the request (e.g. a task token) that must not show in exception messages,
    /// even if the service echoes them; the signing credentials are always kept out.</param>
    public async Task<TResponse> InvokeAsync<TRequest, TResponse>(string target, TRequest request,
        JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResponse> responseType,
        IReadOnlyCollection<string>? secrets = null, CancellationToken cancellationToken = default)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(request, requestType);
        var answer = await SendAsync(HttpMethod.Post, "/", target, "application/x-amz-json-1.0", body, secrets, cancellationToken);
        return Deserialize(answer, responseType);
    }

    /// <summary>A REST-JSON call: the method and path name the action (e.g. POST /v2/email/outbound-emails).</summary>
    /// <inheritdoc cref="InvokeAsync{TRequest,TResponse}" path="/param[@name='secrets']"/>
    public async Task<TResponse> InvokeRestAsync<TRequest, TResponse>(HttpMethod method, string path, TRequest request,
        JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResponse> responseType,
        IReadOnlyCollection<string>? secrets = null, CancellationToken cancellationToken = default)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(request, requestType);
        var answer = await SendAsync(method, path, null, "application/json", body, secrets, cancellationToken);
        return Deserialize(answer, responseType);
    }

    private async Task<byte[]> SendAsync(HttpMethod method, string path, string? target, string contentType,
        byte[] body, IReadOnlyCollection<string>? secrets, CancellationToken cancellationToken)
    {
        var retry = _options.Retry;
        for (var attempt = 1; ; attempt++)
        {
            var credentials = await _options.Credentials.GetCredentialsAsync(cancellationToken);
            using var request = new HttpRequestMessage(method, new Uri(Endpoint, path)) { Content = new ByteArrayContent(body) };
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            if (target != null) request.Headers.TryAddWithoutValidation("X-Amz-Target", target);
            SigV4Signer.Sign(request, body, credentials, _options.Credentials.Region, _signingName, _options.TimeProvider.GetUtcNow());
            try
            {
                using var response = await _http.SendAsync(request, cancellationToken);
                var answer = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                if (response.IsSuccessStatusCode) return answer;
                var error = ToException(response, answer, [credentials.SecretAccessKey, credentials.SessionToken, .. secrets ?? []]);
                if (attempt >= retry.MaxAttempts || !IsRetryable(error)) throw error;
            }
            catch (HttpRequestException) when (attempt < retry.MaxAttempts)
            {
                // The connection failed or broke; the next attempt may reach a healthy host.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested && attempt < retry.MaxAttempts)
            {
                // HttpClient.Timeout, not the caller's cancellation.
            }
            await Task.Delay(retry.DelayAfter(attempt), _options.TimeProvider, cancellationToken);
        }
    }

    private static bool IsRetryable(AwsServiceException error) =>
        error.StatusCode >= 500 || error.StatusCode == (int)HttpStatusCode.TooManyRequests || RetryableCodes.Contains(error.ErrorCode);

    private static TResponse Deserialize<TResponse>(byte[] answer, JsonTypeInfo<TResponse> responseType) =>
        JsonSerializer.Deserialize(answer.Length == 0 ? "{}"u8 : answer, responseType)
        ?? throw new JsonException($"the service answered null instead of a {typeof(TResponse).Name}");

    /// <summary>
    /// The error code comes from the x-amzn-ErrorType header or the body's "__type" (REST-JSON, JSON 1.0), in forms
    /// like "com.amazonaws.swf.service.model#TaskTimedOut" or "MessageRejected:http://internal.amazon.com/...".
    /// </summary>
    private static AwsServiceException ToException(HttpResponseMessage response, byte[] body, IEnumerable<string?> secrets)
    {
        string? code = response.Headers.TryGetValues("x-amzn-ErrorType", out var values) ? values.FirstOrDefault() : null;
        string? message = null;
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object)
            {
                code ??= Property(json.RootElement, "__type", "code", "Code");
                message = Property(json.RootElement, "message", "Message", "errorMessage");
            }
        }
        catch (JsonException)
        {
            // Not JSON: a proxy's or load balancer's page; its text is the best message there is.
            message = Encoding.UTF8.GetString(body);
        }
        var status = (int)response.StatusCode;
        code = string.IsNullOrWhiteSpace(code) ? $"Http{status}" : ShortCode(code);
        message = string.IsNullOrWhiteSpace(message) ? response.ReasonPhrase ?? "" : message.Trim();
        // Services echo parts of the request: a failed signature check, for one, quotes the canonical request
        // with its x-amz-security-token.
        foreach (var secret in secrets)
        {
            if (!string.IsNullOrEmpty(secret)) message = message.Replace(secret, Redacted, StringComparison.Ordinal);
        }
        return new AwsServiceException(code, Text.Truncate(message, MaxMessageLength, "..."), status);
    }

    private static string? Property(JsonElement element, params ReadOnlySpan<string> names)
    {
        foreach (var name in names)
        {
            if (element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String) return value.GetString();
        }
        return null;
    }

    private static string ShortCode(string raw)
    {
        var code = raw.Split(':')[0];
        return code[(code.LastIndexOf('#') + 1)..].Trim();
    }
}
