using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Amazon.Runtime;
using Backups.Core.Backends;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Backends;

/// <summary>What only the S3 backend has to get right: plain upload bodies, TLS trust, retries, the bucket.</summary>
[Collection("s3")]
public sealed class S3BackendTests(S3rverFixture s3)
{
    private static readonly RetrySettings Quick = RetrySettings.Default with
    {
        MaxAttempts = 3, FirstDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(100),
        ConnectTimeout = TimeSpan.FromSeconds(2),
    };

    /// <summary>Checked on s3rver's disk, not through our own GET: aws-chunked framing or trailing checksums
    /// would be stored verbatim there.</summary>
    [Fact]
    public async Task Uploads_are_plain_bodies()
    {
        var repository = s3.NewRepository();
        var location = (S3RepositoryLocation)RepositoryLocation.Parse(repository);
        await using var backend = RepositoryLocation.Open(repository, s3.Options());
        foreach (var size in new[] { 0, 1, 70_000, 5 << 20 })
        {
            var data = BackendContract.RandomBytes(size);
            var file = new FileHandle(FileKind.Pack, BackendContract.NewId());
            await backend.SaveAsync(file, data);
            Assert.Equal(data, s3.StoredObject(location.Bucket, $"{location.Prefix}/{FileLayout.RelativePath(file)}"));
        }
    }

    [Fact]
    public async Task Creates_a_missing_bucket()
    {
        var bucket = $"fresh-{Guid.NewGuid():N}"[..30];
        await using var backend = RepositoryLocation.Open(s3.NewRepository(bucket), s3.Options());
        byte[] data = [1, 2, 3];
        await Assert.ThrowsAsync<BackendUnavailableException>(() => backend.SaveAsync(FileHandle.Config, data));
        Assert.Empty(await BackendContract.ToListAsync(backend.ListAsync(FileKind.Pack)));
        await backend.CreateAsync();
        await backend.SaveAsync(FileHandle.Config, data);
        Assert.Equal(data, await backend.LoadAsync(FileHandle.Config));
    }

    [Fact]
    public async Task Unreachable_endpoint_gives_up_in_bounded_time()
    {
        var port = ClosedPort();
        await using var backend = RepositoryLocation.Open($"s3:https://127.0.0.1:{port}/bucket/prefix", s3.Options(Quick));
        var clock = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<BackendUnavailableException>(() => backend.LoadAsync(FileHandle.Config));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.Contains($"127.0.0.1:{port}", e.Message);
        Assert.Contains("3 times", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.DoesNotContain(S3rverFixture.SecretKey, e.Message);
    }

    /// <summary>restic's --cacert replaces the system roots; without it a self-signed server is refused at once
    /// (a certificate problem is not worth retrying).</summary>
    [Fact]
    public async Task Trusts_the_server_only_through_the_given_ca()
    {
        var slow = Quick with { FirstDelay = TimeSpan.FromSeconds(30), MaxDelay = TimeSpan.FromSeconds(30) };
        await using var backend = RepositoryLocation.Open(s3.NewRepository(), s3.Options(slow) with { CaCertFile = null });
        var clock = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<BackendUnavailableException>(() => backend.StatAsync(FileHandle.Config));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.Contains("certificate", e.Message);
    }

    [Fact]
    public async Task Retries_resets_and_throttling()
    {
        await using var server = new ScriptedServer(
            ScriptedServer.Reset, ScriptedServer.SlowDown, ScriptedServer.Status(500), ScriptedServer.Ok("hello"));
        await using var backend = new S3Backend(server.Location, Options(Quick with { MaxAttempts = 4 }));
        Assert.Equal("hello"u8.ToArray(), await backend.LoadAsync(FileHandle.Config));
        Assert.Equal(4, server.Requests);
    }

    [Fact]
    public async Task Times_out_a_stalled_attempt()
    {
        await using var server = new ScriptedServer(ScriptedServer.Silent, ScriptedServer.Ok("hello"));
        await using var backend = new S3Backend(server.Location, Options(Quick with { RequestTimeout = TimeSpan.FromMilliseconds(300) }));
        Assert.Equal("hello"u8.ToArray(), await backend.LoadAsync(FileHandle.Config));
        Assert.Equal(2, server.Requests);
    }

    [Fact]
    public async Task Gives_up_after_the_last_attempt()
    {
        await using var server = new ScriptedServer(Enumerable.Repeat(ScriptedServer.SlowDown, 10).ToArray());
        await using var backend = new S3Backend(server.Location, Options(Quick));
        var e = await Assert.ThrowsAsync<BackendUnavailableException>(() => backend.StatAsync(FileHandle.Config));
        Assert.Equal(3, server.Requests);
        Assert.Contains("503", e.Message);
        Assert.Contains(server.Location.Endpoint.Authority, e.Message);
    }

    [Fact]
    public async Task Does_not_retry_refusals()
    {
        await using var server = new ScriptedServer(ScriptedServer.Status(403, "AccessDenied"), ScriptedServer.Ok(""));
        await using var backend = new S3Backend(server.Location, Options(Quick));
        var e = await Assert.ThrowsAsync<BackendUnavailableException>(() => backend.LoadAsync(FileHandle.Config));
        Assert.Equal(1, server.Requests);
        Assert.Contains("AccessDenied", e.Message);
    }

    [Fact]
    public async Task Retries_a_body_cut_short()
    {
        await using var server = new ScriptedServer(ScriptedServer.Truncated("hello world"), ScriptedServer.Ok("hello world"));
        await using var backend = new S3Backend(server.Location, Options(Quick));
        Assert.Equal("hello world"u8.ToArray(), await backend.LoadAsync(FileHandle.Config));
        Assert.Equal(2, server.Requests);
    }

    /// <summary>The budget, not an attempt count, ends the retries by default.</summary>
    [Fact]
    public async Task Keeps_trying_until_the_budget_is_spent()
    {
        await using var server = new ScriptedServer(Enumerable.Repeat(ScriptedServer.SlowDown, 200).ToArray());
        var budget = Quick with { MaxAttempts = int.MaxValue, Budget = TimeSpan.FromSeconds(3) };
        await using var backend = new S3Backend(server.Location, Options(budget));
        var e = await Assert.ThrowsAsync<BackendUnavailableException>(() => backend.StatAsync(FileHandle.Config));
        Assert.InRange(server.Requests, 4, 199);
        Assert.Contains("503", e.Message);
    }

    /// <summary>A caller's deadline (a Lambda's end) wins over a longer budget: no retry starts that would run past it.</summary>
    [Fact]
    public async Task Stops_retrying_at_the_callers_deadline()
    {
        await using var server = new ScriptedServer(Enumerable.Repeat(ScriptedServer.SlowDown, 10).ToArray());
        var options = Options(Quick with { MaxAttempts = int.MaxValue, Budget = TimeSpan.FromHours(1) }) with { Deadline = DateTimeOffset.UtcNow };
        await using var backend = new S3Backend(server.Location, options);
        await Assert.ThrowsAsync<BackendUnavailableException>(() => backend.StatAsync(FileHandle.Config));
        Assert.Equal(1, server.Requests);
    }

    /// <summary>A clock-skew refusal is retried with the store's time (its Date header) in the signature.</summary>
    [Fact]
    public async Task Retries_clock_skew_with_the_servers_time()
    {
        var skew = TimeSpan.FromMinutes(3); // within what s3rver and AWS accept, should another test sign meanwhile
        var serverNow = DateTimeOffset.UtcNow + skew;
        await using var server = new ScriptedServer(
            ScriptedServer.Status(403, "RequestTimeTooSkewed", serverNow), ScriptedServer.Ok("hello"));
        await using var backend = new S3Backend(server.Location, Options(Quick));
        try
        {
            Assert.Equal("hello"u8.ToArray(), await backend.LoadAsync(FileHandle.Config));
            Assert.Equal(2, server.Requests);
            var signedAt = server.Heads.Select(SigningTime).ToArray();
            Assert.InRange(signedAt[1] - signedAt[0], skew - TimeSpan.FromSeconds(30), skew + TimeSpan.FromSeconds(30));
        }
        finally
        {
            Amazon.AWSConfigs.ManualClockCorrection = null;
        }
    }

    private static DateTimeOffset SigningTime(string head)
    {
        var line = head.Split("\r\n").Single(l => l.StartsWith("x-amz-date:", StringComparison.OrdinalIgnoreCase));
        return DateTimeOffset.ParseExact(line[(line.IndexOf(':') + 1)..].Trim(), "yyyyMMdd'T'HHmmss'Z'",
            System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal);
    }

    private static BackendOptions Options(RetrySettings retry) =>
        new(Credentials: new BasicAWSCredentials("AKIDEXAMPLE", "not-a-secret"), Region: "us-east-1", Retry: retry);

    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Plain-HTTP stand-in for S3 that answers each request with the next scripted response.</summary>
    private sealed class ScriptedServer : IAsyncDisposable
    {
        /// <summary>Closes the connection without an answer.</summary>
        public const string? Reset = null;
        /// <summary>Never answers; waits for the client to give up.</summary>
        public const string Silent = "";
        public static readonly string SlowDown = Status(503, "SlowDown");

        public static string Status(int status, string code = "InternalError", DateTimeOffset? date = null) =>
            Response(status, $"<?xml version=\"1.0\"?><Error><Code>{code}</Code><Message>scripted</Message></Error>", date);

        public static string Ok(string body) => Response(200, body);

        /// <summary>Announces the whole body, sends half of it and closes the connection.</summary>
        public static string Truncated(string body) => Response(200, body)[..^(body.Length / 2)];

        private static string Response(int status, string body, DateTimeOffset? date = null) =>
            $"HTTP/1.1 {status} X\r\nContent-Type: application/xml\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n" +
            (date is { } d ? $"Date: {d.UtcDateTime:R}\r\n" : "") + $"Connection: close\r\n\r\n{body}";

        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly List<string> _heads = [];
        private readonly Task _serving;
        private int _requests;

        public ScriptedServer(params string?[] responses)
        {
            _listener.Start();
            Location = new S3RepositoryLocation(new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}"), "bucket", "prefix");
            _serving = ServeAsync(responses);
        }

        public S3RepositoryLocation Location { get; }

        public int Requests => Volatile.Read(ref _requests);

        /// <summary>Each request's line and headers, in order.</summary>
        public IReadOnlyList<string> Heads
        {
            get { lock (_heads) return [.. _heads]; }
        }

        private async Task ServeAsync(string?[] responses)
        {
            foreach (var response in responses)
            {
                using var client = await _listener.AcceptTcpClientAsync();
                var stream = client.GetStream();
                var head = await ReadHeadAsync(stream);
                lock (_heads) _heads.Add(head);
                Interlocked.Increment(ref _requests);
                if (response == Reset) client.Client.LingerState = new LingerOption(true, 0); // RST on close
                else if (response == Silent) while (await stream.ReadAsync(new byte[1]) > 0) { }
                else await stream.WriteAsync(Encoding.UTF8.GetBytes(response));
            }
        }

        /// <summary>Requests here have no body (GET, HEAD), so the head is all there is.</summary>
        private static async Task<string> ReadHeadAsync(NetworkStream stream)
        {
            var seen = new StringBuilder();
            var buffer = new byte[4096];
            while (!seen.ToString().Contains("\r\n\r\n"))
            {
                var n = await stream.ReadAsync(buffer);
                if (n == 0) break;
                seen.Append(Encoding.ASCII.GetString(buffer, 0, n));
            }
            return seen.ToString();
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            try { await _serving; }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException) { }
        }
    }
}
