using System.Security.Cryptography;
using Backups.Core.Backends;
using Backups.Tests.Errors;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Cli;

/// <summary>
/// --limit-upload and --limit-download: a token bucket on the store's traffic, checked by its accounting on a
/// clock that moves only when something waits on it (no wall-clock timing), and the flags as restic spells them.
/// </summary>
public sealed class BandwidthLimitTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A clock that stands still until someone waits on it, and then jumps to the end of the wait.</summary>
    private sealed class WaitingClock : TimeProvider
    {
        private long _ticks;

        public TimeSpan Elapsed => TimeSpan.FromTicks(Interlocked.Read(ref _ticks));

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public override DateTimeOffset GetUtcNow() => DateTimeOffset.UnixEpoch + Elapsed;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Interlocked.Add(ref _ticks, dueTime.Ticks);
            ThreadPool.QueueUserWorkItem(_ => callback(state));
            return new Fired();
        }

        private sealed class Fired : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => false;
            public void Dispose() { }
            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }

    [Fact]
    public void The_bucket_holds_one_second_and_charges_the_rest()
    {
        var clock = new WaitingClock();
        var bucket = new TokenBucket(10_240, clock);
        Assert.Equal(TimeSpan.Zero, bucket.Take(10_240));
        Assert.Equal(TimeSpan.FromSeconds(2), bucket.Take(20_480));
        // Paid off by waiting: two seconds later nothing is owed, and a full bucket never holds more than a second.
        clock.CreateTimer(_ => { }, null, TimeSpan.FromSeconds(12), Timeout.InfiniteTimeSpan);
        Assert.Equal(TimeSpan.Zero, bucket.Take(10_240));
        Assert.Equal(TimeSpan.FromSeconds(1), bucket.Take(10_240));
    }

    [Fact]
    public async Task Uploads_and_downloads_take_as_long_as_the_limits_say()
    {
        var clock = new WaitingClock();
        var payload = RandomNumberGenerator.GetBytes(1 << 20);
        await using var store = new RateLimitedBackend(new LocalBackend(_dir.Combine("repo")), new BandwidthLimits(UploadKiB: 100, DownloadKiB: 200), clock);
        await store.CreateAsync();

        await using (var pack = await store.BeginAsync(FileKind.Pack))
        {
            for (var offset = 0; offset < payload.Length; offset += 64 << 10) await pack.WriteAsync(payload.AsMemory(offset, 64 << 10));
            await pack.CommitAsync(Convert.ToHexStringLower(SHA256.HashData(payload)));
        }
        var name = Convert.ToHexStringLower(SHA256.HashData(payload));
        // 1 MiB at 100 KiB/s, of which the full bucket's first second's worth passes at once.
        var upload = clock.Elapsed;
        Assert.InRange(upload.TotalSeconds, (1024 - 100) / 100.0 - 0.01, (1024 - 100) / 100.0 + 0.01);

        await store.SaveAsync(new FileHandle(FileKind.Snapshot, name), payload.AsMemory(0, 100 << 10));
        Assert.InRange((clock.Elapsed - upload).TotalSeconds, 0.99, 1.01);

        var before = clock.Elapsed;
        var loaded = await store.LoadAsync(new FileHandle(FileKind.Pack, name));
        Assert.Equal(payload, loaded);
        Assert.InRange((clock.Elapsed - before).TotalSeconds, (1024 - 200) / 200.0 - 0.01, (1024 - 200) / 200.0 + 0.01);
    }

    [Fact]
    public async Task The_flags_are_global_and_checked()
    {
        var repo = new LocalStore(_dir).New();
        await repo.Agent.RunOkAsync("init");
        var source = Directory.CreateDirectory(_dir.Combine("src")).FullName;
        await File.WriteAllBytesAsync(Path.Combine(source, "data"), RandomNumberGenerator.GetBytes(100_000));
        await repo.Agent.RunOkAsync("--limit-upload", "50000", "backup", source, "--limit-download", "50000");
        Assert.Single((await repo.Restic.JsonAsync("snapshots")).EnumerateArray());
        var before = RepositoryFiles.Snapshot(repo.Repository);
        var r = await repo.Agent.RunAsync(["snapshots", "--limit-download", "fast"]);
        Failure.AssertOneLine(r, Failure.Usage, "--limit-download");
        RepositoryFiles.AssertUnchanged(before, repo.Repository);
    }
}
