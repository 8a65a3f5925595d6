using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Backups.Tests.Support;

namespace Backups.Tests.Faults;

/// <summary>How often each fault strikes a request, from 0 to 1.</summary>
public sealed record FaultRates
{
    /// <summary>503 SlowDown or 500 before the request reaches the store.</summary>
    public double ServerError { get; init; }
    /// <summary>500 after the store has done the work (a PUT that did land, a GET that was served).</summary>
    public double ErrorAfterWork { get; init; }
    /// <summary>The connection is dropped without an answer.</summary>
    public double Reset { get; init; }
    /// <summary>The answer waits <see cref="FaultProxy.Delay"/> first.</summary>
    public double Delay { get; init; }
    /// <summary>A GET answer announces its whole body, sends half and drops the connection.</summary>
    public double Truncate { get; init; }
    /// <summary>A GET answer has one bit flipped.</summary>
    public double BitFlip { get; init; }

    public static readonly FaultRates None = new();
}

/// <summary>
/// A plain-HTTP reverse proxy in front of the real s3rver (which speaks HTTPS) that injects faults, chosen by a
/// seeded random generator: 5xx answers, dropped connections, delays, bodies cut short or with a flipped bit; on
/// request it refuses PUTs under a key prefix, or answers everything with 503 for a while (an outage). Requests
/// are forwarded with their Host header, so the client's signatures stay valid. It speaks HTTP/1.1 on raw sockets,
/// one request per connection, so that a reset is a real TCP reset and a short body really ends early.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    public static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(300);

    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Connection", "Keep-Alive", "Transfer-Encoding", "Expect", "Content-Length", "Proxy-Connection", "TE", "Upgrade",
    };

    private readonly S3rverFixture _s3;
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly HttpClient _upstream;
    private readonly X509Certificate2 _trusted;
    private readonly Random _random;
    private readonly Task _serving;
    private readonly Dictionary<string, int> _injected = [];
    private DateTimeOffset _outageEnds = DateTimeOffset.MinValue;
    private int _flipsLeft, _flipMinLength;
    private int _inFlight, _mostInFlight;
    private (string Method, string Path, TimeSpan Length)? _outageTrigger;

    public FaultProxy(S3rverFixture s3, int seed, FaultRates? rates = null)
    {
        _s3 = s3;
        _random = new Random(seed);
        Rates = rates ?? FaultRates.None;
        _trusted = X509CertificateLoader.LoadCertificateFromFile(s3.CaCertPath);
        var handler = new SocketsHttpHandler { AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, _) => cert?.GetCertHashString() == _trusted.GetCertHashString();
        _upstream = new HttpClient(handler) { Timeout = TimeSpan.FromMinutes(2) };
        _listener.Start();
        Url = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _serving = ServeAsync();
    }

    /// <summary>http://127.0.0.1:PORT/</summary>
    public Uri Url { get; }

    public FaultRates Rates { get; set; }

    /// <summary>PUTs of keys containing this (e.g. "/locks/") are answered with <see cref="RefusalStatus"/>.</summary>
    public string? RefusePutsTo { get; set; }

    public int RefusalStatus { get; set; } = 503;

    /// <summary>A repository string for a prefix nobody used before, reached through this proxy.</summary>
    public string NewRepository() => $"s3:http://{Url.Authority}/{S3rverFixture.Bucket}/repo-{Guid.NewGuid():N}";

    /// <summary>The same repository reached directly (restic, or a check of what was stored).</summary>
    public string Direct(string repository) =>
        repository.Replace($"http://{Url.Authority}", _s3.Endpoint.GetLeftPart(UriPartial.Authority), StringComparison.Ordinal);

    /// <summary>Every request is answered 503 until <paramref name="length"/> has passed.</summary>
    public void StartOutage(TimeSpan length)
    {
        lock (_random) _outageEnds = DateTimeOffset.UtcNow + length;
    }

    /// <summary>An outage of <paramref name="length"/> begins with the first <paramref name="method"/> request whose
    /// path contains <paramref name="pathContains"/> (that request is the outage's first victim).</summary>
    public void OutageOnFirst(string method, string pathContains, TimeSpan length)
    {
        lock (_random) _outageTrigger = (method, pathContains, length);
    }

    /// <summary>The next <paramref name="count"/> GETs of (parts of) packs, data/, of at least
    /// <paramref name="minLength"/> bytes get one bit flipped (a minimum picks data reads over small tree reads).</summary>
    public void FlipNextPackReads(int count, int minLength = 0)
    {
        lock (_random) (_flipsLeft, _flipMinLength) = (count, minLength);
    }

    /// <summary>How many faults of each kind were injected so far.</summary>
    public IReadOnlyDictionary<string, int> Injected
    {
        get { lock (_random) return new Dictionary<string, int>(_injected); }
    }

    public int InjectedTotal => Injected.Values.Sum();

    /// <summary>The most requests that were in flight at once (received, not yet fully answered) since
    /// <see cref="CountInFlightAnew"/>: never more than the client had open at that moment.</summary>
    public int MostInFlight => Volatile.Read(ref _mostInFlight);

    public void CountInFlightAnew() => Interlocked.Exchange(ref _mostInFlight, Volatile.Read(ref _inFlight));

    private void Count(string fault)
    {
        lock (_random) _injected[fault] = _injected.GetValueOrDefault(fault) + 1;
    }

    private enum Fault { None, ServerError, ErrorAfterWork, Reset, Delay, Truncate, BitFlip, Refused, Outage }

    private Fault Choose(Request request)
    {
        var path = request.Path;
        lock (_random)
        {
            if (_outageTrigger is { } t && request.Method == t.Method && path.Contains(t.Path, StringComparison.Ordinal))
            {
                _outageEnds = DateTimeOffset.UtcNow + t.Length;
                _outageTrigger = null;
            }
            if (DateTimeOffset.UtcNow < _outageEnds) return Fault.Outage;
            if (request.Method == "PUT" && RefusePutsTo != null && path.Contains(RefusePutsTo, StringComparison.Ordinal)) return Fault.Refused;
            if (request.Method == "GET" && _flipsLeft > 0 && path.Contains("/data/", StringComparison.Ordinal)
                && RangeLength(request.Header("Range")) >= _flipMinLength)
            {
                _flipsLeft--;
                return Fault.BitFlip;
            }
            var roll = _random.NextDouble();
            var get = request.Method == "GET";
            var verified = !path.Contains('?') && (path.Contains("/data/", StringComparison.Ordinal)
                || path.Contains("/index/", StringComparison.Ordinal) || path.Contains("/snapshots/", StringComparison.Ordinal));
            foreach (var (fault, rate) in new[]
            {
                (Fault.ServerError, Rates.ServerError), (Fault.ErrorAfterWork, Rates.ErrorAfterWork), (Fault.Reset, Rates.Reset),
                // Bits flip only in files whose hash or MAC is checked on every load; listings, keys/ and config are
                // protected by TLS alone (a real store is reached over TLS, which this proxy is not).
                (Fault.Delay, Rates.Delay), (Fault.Truncate, get ? Rates.Truncate : 0), (Fault.BitFlip, get && verified ? Rates.BitFlip : 0),
            })
            {
                if (roll < rate) return fault;
                roll -= rate;
            }
            return Fault.None;
        }
    }

    /// <summary>The length a "bytes=A-B" range asks for; a whole object counts as long.</summary>
    private static long RangeLength(string? range)
    {
        if (range == null || !range.StartsWith("bytes=", StringComparison.Ordinal)) return long.MaxValue;
        var parts = range["bytes=".Length..].Split('-');
        return long.TryParse(parts[0], out var from) && long.TryParse(parts[1], out var to) ? to - from + 1 : long.MaxValue;
    }

    private int Next(int max)
    {
        lock (_random) return _random.Next(max);
    }

    /// <summary>A request as read off the wire: its line, headers and body.</summary>
    private sealed record Request(string Method, string Path, List<(string Name, string Value)> Headers, byte[] Body)
    {
        public string? Header(string name) => Headers.FirstOrDefault(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;
    }

    private async Task ServeAsync()
    {
        while (true)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = Task.Run(async () =>
            {
                using (client)
                {
                    try
                    {
                        await AnswerAsync(client);
                    }
                    catch (Exception e) when (e is IOException or SocketException or HttpRequestException or OperationCanceledException or ObjectDisposedException)
                    {
                        // the client gave up, or s3rver is stopping: nobody is left to answer
                    }
                }
            });
        }
    }

    private async Task AnswerAsync(TcpClient client)
    {
        var stream = client.GetStream();
        if (await ReadRequestAsync(stream) is not { } request) return;
        var now = Interlocked.Increment(ref _inFlight);
        for (var most = Volatile.Read(ref _mostInFlight); now > most; most = Volatile.Read(ref _mostInFlight))
            if (Interlocked.CompareExchange(ref _mostInFlight, now, most) == most) break;
        try
        {
            await AnswerAsync(client, stream, request);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task AnswerAsync(TcpClient client, NetworkStream stream, Request request)
    {
        var fault = Choose(request);
        if (fault != Fault.None) Count(fault.ToString());
        switch (fault)
        {
            case Fault.Outage or Fault.Refused:
                await ErrorAsync(stream, fault == Fault.Refused ? RefusalStatus : 503, fault == Fault.Refused ? "AccessDenied" : "SlowDown");
                return;
            case Fault.ServerError:
                await ErrorAsync(stream, Next(2) == 0 ? 503 : 500, "InternalError");
                return;
            case Fault.Reset:
                client.Client.LingerState = new LingerOption(true, 0); // RST on close
                return;
            case Fault.Delay:
                await Task.Delay(Delay);
                break;
        }

        using var forwarded = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(_s3.Endpoint, request.Path));
        if (request.Body.Length > 0 || request.Method is "PUT" or "POST") forwarded.Content = new ByteArrayContent(request.Body);
        foreach (var (name, value) in request.Headers)
        {
            if (HopByHop.Contains(name)) continue;
            if (!forwarded.Headers.TryAddWithoutValidation(name, value)) forwarded.Content?.Headers.TryAddWithoutValidation(name, value);
        }
        forwarded.Headers.Host = request.Header("Host");
        using var answer = await _upstream.SendAsync(forwarded);
        var content = await answer.Content.ReadAsByteArrayAsync();
        if (fault == Fault.ErrorAfterWork)
        {
            await ErrorAsync(stream, 500, "InternalError");
            return;
        }

        var head = new StringBuilder($"HTTP/1.1 {(int)answer.StatusCode} {answer.ReasonPhrase}\r\n");
        foreach (var (name, values) in answer.Headers.Concat(answer.Content.Headers))
            if (!HopByHop.Contains(name)) head.Append($"{name}: {string.Join(",", values)}\r\n");
        head.Append($"Content-Length: {answer.Content.Headers.ContentLength ?? content.Length}\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
        if (request.Method == "HEAD") return;
        if (fault == Fault.BitFlip && content.Length > 0)
        {
            var bit = Next(content.Length * 8);
            content[bit / 8] ^= (byte)(1 << (bit % 8));
        }
        if (fault == Fault.Truncate && content.Length > 1)
        {
            await stream.WriteAsync(content.AsMemory(0, content.Length / 2));
            client.Client.LingerState = new LingerOption(true, 0);
            return;
        }
        await stream.WriteAsync(content);
    }

    /// <summary>The request line, headers and (Content-Length) body; null when the client closed first.</summary>
    private static async Task<Request?> ReadRequestAsync(NetworkStream stream)
    {
        var buffer = new MemoryStream();
        var one = new byte[1];
        // Byte by byte up to the blank line: heads are small, and nothing of the body may be read past.
        while (!EndsWithBlankLine(buffer))
        {
            if (await stream.ReadAsync(one) == 0) return null;
            buffer.WriteByte(one[0]);
        }
        var lines = Encoding.ASCII.GetString(buffer.ToArray()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var first = lines[0].Split(' ');
        var headers = lines.Skip(1).Select(l => (l[..l.IndexOf(':')].Trim(), l[(l.IndexOf(':') + 1)..].Trim())).ToList();
        var request = new Request(first[0], first[1], headers, []);
        if (request.Header("Expect") is { } expect && expect.Equals("100-continue", StringComparison.OrdinalIgnoreCase))
            await stream.WriteAsync("HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray());
        var length = long.Parse(request.Header("Content-Length") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
        var body = new byte[length];
        await stream.ReadExactlyAsync(body);
        return request with { Body = body };
    }

    private static bool EndsWithBlankLine(MemoryStream buffer)
    {
        if (buffer.Length < 4) return false;
        var b = buffer.GetBuffer();
        var n = (int)buffer.Length;
        return b[n - 4] == '\r' && b[n - 3] == '\n' && b[n - 2] == '\r' && b[n - 1] == '\n';
    }

    private static async Task ErrorAsync(NetworkStream stream, int status, string code)
    {
        var xml = $"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>injected by the fault proxy</Message></Error>";
        var response = $"HTTP/1.1 {status} Injected\r\nContent-Type: application/xml\r\nContent-Length: {Encoding.UTF8.GetByteCount(xml)}\r\n" +
            $"Connection: close\r\n\r\n{xml}";
        await stream.WriteAsync(Encoding.UTF8.GetBytes(response));
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        await _serving;
        _upstream.Dispose();
        _trusted.Dispose();
    }
}
