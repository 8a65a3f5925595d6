namespace Backups.Core.Backends;

/// <summary>
/// A token bucket as restic's limiter uses one (juju/ratelimit): it refills at the rate, holds at most one
/// second's worth, and a caller that takes more than it holds goes into debt and waits until the debt is paid.
/// The clock is a parameter so that the accounting can be checked without waiting.
/// </summary>
public sealed class TokenBucket
{
    private readonly long _bytesPerSecond;
    private readonly TimeProvider _clock;
    private readonly Lock _gate = new();
    private double _tokens;
    private long _refilledAt;

    public TokenBucket(long bytesPerSecond, TimeProvider clock)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytesPerSecond);
        _bytesPerSecond = bytesPerSecond;
        _clock = clock;
        _tokens = bytesPerSecond;
        _refilledAt = clock.GetTimestamp();
    }

    /// <summary>Takes tokens for <paramref name="bytes"/>; returns how long the caller must wait before passing them on.</summary>
    public TimeSpan Take(long bytes)
    {
        lock (_gate)
        {
            var now = _clock.GetTimestamp();
            var elapsed = _clock.GetElapsedTime(_refilledAt, now);
            _refilledAt = now;
            _tokens = Math.Min(_bytesPerSecond, _tokens + elapsed.TotalSeconds * _bytesPerSecond) - bytes;
            return _tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_tokens / _bytesPerSecond);
        }
    }

    /// <summary>Takes tokens for <paramref name="bytes"/> and waits as long as the rate asks.</summary>
    public Task WaitAsync(long bytes, CancellationToken ct)
    {
        var wait = Take(bytes);
        return wait > TimeSpan.Zero ? Task.Delay(wait, _clock, ct) : Task.CompletedTask;
    }
}
