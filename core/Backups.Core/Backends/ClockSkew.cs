using Amazon;

namespace Backups.Core.Backends;

/// <summary>
/// Keeps the signer's clock in step with the store's. Every response's Date header is noted; after a clock-skew
/// refusal the signer is moved to the store's time. The SDK corrects skew only inside its own retries, which we
/// turn off (we retry ourselves), so we do it here. The correction is process-wide, as the SDK's manual one is:
/// a wrong machine clock is wrong for every endpoint.
/// </summary>
internal sealed class ClockSkew
{
    private long _serverMinusLocalTicks;
    private bool _seen;

    /// <summary>Notes the server's time from a response's Date header (whole seconds, so the offset is rounded).</summary>
    public void Observe(DateTimeOffset? serverDate)
    {
        if (serverDate is not { } date) return;
        Volatile.Write(ref _serverMinusLocalTicks, (date - DateTimeOffset.UtcNow).Ticks);
        Volatile.Write(ref _seen, true);
    }

    /// <summary>Signs from now on with the store's time, when it told us its time.</summary>
    public void Correct()
    {
        if (!Volatile.Read(ref _seen)) return;
        AWSConfigs.ManualClockCorrection = TimeSpan.FromTicks(Volatile.Read(ref _serverMinusLocalTicks));
    }

    /// <summary>The handler that notes the Date header of every answer.</summary>
    public DelegatingHandler Handler(HttpMessageHandler inner) => new DateObserver(this) { InnerHandler = inner };

    private sealed class DateObserver(ClockSkew clock) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            var response = await base.SendAsync(request, ct);
            clock.Observe(response.Headers.Date);
            return response;
        }
    }
}
