using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using Amazon.Runtime;

namespace Backups.Core.Backends;

/// <summary>
/// How long a store call keeps trying, as restic's backoff does: attempt n+1 waits a random time between half and
/// all of FirstDelay·2^(n-1) (at most MaxDelay), until Budget has passed since the call began (restic rides out
/// about 15 minutes). ConnectTimeout bounds opening a connection, RequestTimeout each attempt. MaxAttempts caps
/// the attempts as well (tests use it; by default the budget alone decides).
/// </summary>
public sealed record RetrySettings(TimeSpan Budget, TimeSpan FirstDelay, TimeSpan MaxDelay, TimeSpan ConnectTimeout, TimeSpan RequestTimeout,
    int MaxAttempts = int.MaxValue)
{
    /// <summary>Shortens (or lengthens) the default budget, in seconds; meant for tests of outages.</summary>
    public const string BudgetVariable = "BACKUP_RETRY_BUDGET_SECONDS";

    public static readonly RetrySettings Default = new(
        Budget: Durations.FromEnvironment(BudgetVariable) ?? TimeSpan.FromMinutes(15),
        FirstDelay: TimeSpan.FromMilliseconds(500), MaxDelay: TimeSpan.FromSeconds(60),
        ConnectTimeout: TimeSpan.FromSeconds(30), RequestTimeout: TimeSpan.FromMinutes(15));

    public TimeSpan DelayAfter(int attempt)
    {
        var full = Math.Min(MaxDelay.TotalMilliseconds, FirstDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 30)));
        // Jitter spreads out clients that failed together, so they do not come back together.
        return TimeSpan.FromMilliseconds(full / 2 + Random.Shared.NextDouble() * full / 2);
    }
}

/// <summary>
/// The one owner of the retry rule for S3 calls: which failures are worth another attempt, how long to wait, and
/// when to give up (the budget, or the caller's deadline, whichever comes first). A clock-skew refusal is retried
/// once the signer has taken the server's time. Each attempt holds one of <paramref name="requests"/> while it runs
/// (not while it waits to be retried), and its timeout starts once it holds one.
/// </summary>
internal sealed class RetryLoop(string location, RetrySettings settings, DateTimeOffset? deadline, ClockSkew clock, SemaphoreSlim requests)
{
    // Enough for one attempt to get an answer; below this a deadline is treated as reached.
    private static readonly TimeSpan ShortestAttempt = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Runs one store call, again after a backoff when it fails transiently. Answers that callers act on
    /// (404, 416) pass through; every other failure becomes a one-line <see cref="BackendUnavailableException"/>.
    /// </summary>
    public async Task<T> RunAsync<T>(string what, Func<CancellationToken, Task<T>> call, CancellationToken ct)
    {
        var started = DateTimeOffset.UtcNow;
        var giveUpAt = started + settings.Budget;
        if (deadline is { } d && d < giveUpAt) giveUpAt = d;
        for (var attempt = 1; ; attempt++)
        {
            Exception failure;
            await requests.WaitAsync(ct);
            try
            {
                // Per attempt, and over reading the body too (HttpClient's own timeout ends with the headers);
                // never past the point where the caller needs an answer.
                var left = giveUpAt - DateTimeOffset.UtcNow;
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromTicks(Math.Max(ShortestAttempt.Ticks, Math.Min(settings.RequestTimeout.Ticks, left.Ticks))));
                return await call(timeout.Token);
            }
            catch (Exception e) when (!ct.IsCancellationRequested && IsTransient(e))
            {
                failure = e;
            }
            catch (Exception e) when (!ct.IsCancellationRequested && e is AmazonClientException or HttpRequestException
                or AmazonServiceException { StatusCode: not (HttpStatusCode.NotFound or HttpStatusCode.RequestedRangeNotSatisfiable) })
            {
                throw new BackendUnavailableException($"{location}: {what} failed: {Reason(e)}", e);
            }
            finally
            {
                requests.Release();
            }
            if (IsClockSkew(failure)) clock.Correct();
            var delay = IsClockSkew(failure) && attempt == 1 ? TimeSpan.Zero : settings.DelayAfter(attempt);
            if (attempt >= settings.MaxAttempts || DateTimeOffset.UtcNow + delay + ShortestAttempt > giveUpAt)
                throw new BackendUnavailableException(
                    $"{location} unavailable: {what} failed {attempt} times in {(DateTimeOffset.UtcNow - started).TotalSeconds:0} s: {Reason(failure)}", failure);
            await Task.Delay(delay, ct);
        }
    }

    /// <summary>The store refused the request's signing time as too far from its own clock.</summary>
    private static bool IsClockSkew(Exception e) =>
        e is AmazonServiceException { StatusCode: HttpStatusCode.Forbidden, ErrorCode: "RequestTimeTooSkewed" or "RequestExpired" };

    /// <summary>5xx, throttling, clock skew, resets, timeouts and bodies cut short heal by waiting; a refusal, a
    /// missing object or a certificate problem does not.</summary>
    private static bool IsTransient(Exception e)
    {
        for (var x = e; x != null; x = x.InnerException)
            if (x is AuthenticationException) return false;
        if (IsClockSkew(e)) return true;
        for (var x = e; x != null; x = x.InnerException)
        {
            switch (x)
            {
                case AmazonServiceException s when (int)s.StatusCode >= 500 || (int)s.StatusCode == 429
                    || s.ErrorCode is "SlowDown" or "RequestTimeout" or "Throttling" or "ThrottlingException":
                // Only reached while the caller's token is not cancelled: an HTTP timeout, not a cancellation.
                case OperationCanceledException:
                // A body shorter than its Content-Length ends in an IOException (EndOfStreamException among them).
                case HttpRequestException or IOException or SocketException or TimeoutException:
                // An answer that does not parse (a listing cut short) was damaged on the way: S3 sends well-formed XML.
                case AmazonUnmarshallingException or System.Xml.XmlException:
                    return true;
            }
        }
        return false;
    }

    internal static string Reason(Exception e)
    {
        if (e is AmazonServiceException { StatusCode: not 0 } s)
            return $"{(int)s.StatusCode} {s.ErrorCode}: {OneLine(s.Message)}";
        var inner = e;
        while (inner.InnerException != null) inner = inner.InnerException;
        return OneLine(inner.Message);
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
