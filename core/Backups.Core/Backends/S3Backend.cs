using System.Net;
using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Backups.Core.Repositories;

namespace Backups.Core.Backends;

/// <summary>
/// A repository in an S3 bucket (AWS or any S3-compatible store), laid out as restic lays it out under a
/// prefix. Every call is retried on transient failures (<see cref="RetryLoop"/>); when the store stays out of
/// reach the call ends in <see cref="BackendUnavailableException"/>. At most <see cref="Connections"/> requests
/// are in flight at once, whoever sends them (restic's -o s3.connections).
/// </summary>
public sealed partial class S3Backend : IBackend
{
    private readonly AmazonS3Client _client;
    private readonly X509Certificate2Collection? _trustedRoots;
    private readonly RetryLoop _retries;
    private readonly SemaphoreSlim _requests;
    private readonly string _bucket;
    private readonly string _prefix;

    public S3Backend(S3RepositoryLocation location, BackendOptions? options = null)
    {
        options ??= new BackendOptions();
        var retry = options.Retry ?? RetrySettings.Default;
        var clock = new ClockSkew();
        _bucket = location.Bucket;
        _prefix = location.Prefix;
        Location = location.ToString();
        Connections = options.Connections ?? DefaultConnections;
        ArgumentOutOfRangeException.ThrowIfLessThan(Connections.Value, 1, nameof(options.Connections));
        _requests = new SemaphoreSlim(Connections.Value);
        _retries = new RetryLoop(Location, retry, options.Deadline, clock, _requests);

        var (region, isAws) = Addressing(location.Endpoint, options.Region);

        if (options.CaCertFile != null)
        {
            _trustedRoots = [];
            _trustedRoots.ImportFromPemFile(options.CaCertFile);
            if (_trustedRoots.Count == 0)
                throw new InvalidDataException($"{options.CaCertFile} holds no PEM certificate");
        }

        var config = new AmazonS3Config
        {
            ServiceURL = location.Endpoint.ToString(),
            AuthenticationRegion = region,
            // AWS serves buckets as virtual hosts; most self-hosted stores only know path-style addressing.
            ForcePathStyle = options.PathStyle ?? !isAws,
            // By default the SDK uploads aws-chunked bodies with a trailing CRC32, which some S3-compatible stores
            // (s3rver, older MinIO and Ceph) keep verbatim instead of decoding. WHEN_REQUIRED drops the checksum;
            // UseChunkEncoding = false on each PUT drops the framing. The payload's SHA-256 is still signed, so
            // the store still verifies what it received.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            // We retry ourselves (bounded, with our own delays); SDK retries inside ours would multiply.
            MaxErrorRetry = 0,
            HttpClientFactory = new S3HttpClientFactory(_trustedRoots, retry.ConnectTimeout, clock),
        };
        // Without explicit credentials the client resolves AWSSDK.Core's default chain on first use:
        // environment (AWS_ACCESS_KEY_ID, ...), shared profile, container or instance role.
        _client = options.Credentials is null ? new AmazonS3Client(config) : new AmazonS3Client(options.Credentials, config);
    }

    public string Location { get; }

    /// <summary>restic's default for s3.connections.</summary>
    public const int DefaultConnections = 5;

    public int? Connections { get; }

    private string Key(FileHandle file) => KeyOf(FileLayout.RelativePath(file));

    private string KeyOf(string relative) => _prefix.Length == 0 ? relative : $"{_prefix}/{relative}";

    /// <summary>The object tag every data pack carries from its upload on; the bucket's lifecycle rules select
    /// data packs by it (a pack's key does not say what it holds). Tree packs and the other files carry none:
    /// every command reads them, so they stay in the class a GET is cheap in.</summary>
    public const string BlobTypeTagKey = "backup-blob-type", DataPackTagValue = "data";

    public Task SaveAsync(FileHandle file, ReadOnlyMemory<byte> data, CancellationToken ct = default) => PutAsync(file, data, tagged: false, ct);

    private async Task PutAsync(FileHandle file, ReadOnlyMemory<byte> data, bool tagged, CancellationToken ct)
    {
        var crc32 = Crc32Base64(data.Span);
        try
        {
            await RunAsync($"save {file}", async c =>
            {
                var request = new PutObjectRequest
                {
                    BucketName = _bucket,
                    Key = Key(file),
                    // A fresh stream per attempt: the SDK consumes (and may close) the one it is given.
                    InputStream = AsStream(data),
                    ContentType = "application/octet-stream",
                    UseChunkEncoding = false,
                    // Create, never replace (S3 conditional writes): every name but config is the hash of its bytes,
                    // so a file is never rewritten, and a bucket policy can refuse writes without this header.
                    IfNoneMatch = "*",
                    // A bucket with Object Lock default retention refuses a PUT without Content-MD5 or a checksum
                    // header; CRC32 is the cheapest (the SDK adds none when checksums are "when required").
                    ChecksumCRC32 = crc32,
                    // Sent as x-amz-tagging: the tag is part of the object from its creation, so no data pack is
                    // ever untagged (a later PutObjectTagging could fail after the upload succeeded).
                    TagSet = tagged ? [new Tag { Key = BlobTypeTagKey, Value = DataPackTagValue }] : null,
                };
                return await _client.PutObjectAsync(request, c);
            }, ct);
        }
        catch (AmazonServiceException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            throw new BackendUnavailableException($"{Location}: save {file} failed: {RetryLoop.Reason(e)}", e);
        }
        catch (Exception e) when (Answered(e, HttpStatusCode.PreconditionFailed))
        {
            await EnsureSameAsync(file, data, ct);
        }
    }

    /// <summary>Whether the store gave this answer, as such or inside the retry loop's one-line exception.</summary>
    private static bool Answered(Exception e, HttpStatusCode status) =>
        (e as AmazonServiceException ?? e.InnerException as AmazonServiceException)?.StatusCode == status;

    /// <summary>x-amz-checksum-crc32: the big-endian CRC-32, base64.</summary>
    private static string Crc32Base64(ReadOnlySpan<byte> data)
    {
        Span<byte> crc = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(crc, System.IO.Hashing.Crc32.HashToUInt32(data));
        return Convert.ToBase64String(crc);
    }

    /// <summary>
    /// A conditional PUT found the name taken. The same bytes are fine: our own earlier attempt whose answer was
    /// lost, or the same content saved twice (a name is the hash of its bytes). Other bytes would be an
    /// overwrite, which is refused: the existing object stays as it is.
    /// </summary>
    private async Task EnsureSameAsync(FileHandle file, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        var size = await StatAsync(file, ct);
        if (size == data.Length && (await LoadAsync(file, ct: ct)).AsSpan().SequenceEqual(data.Span)) return;
        throw new RepositoryException(ErrorKind.OverwriteRefused,
            $"{Location}: {file} already exists with other content; refused to overwrite it (the repository is append-only)");
    }

    private static MemoryStream AsStream(ReadOnlyMemory<byte> data) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(data, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(data.ToArray(), writable: false);

    /// <summary>S3 needs a whole object per PUT: the file gathers in memory and is uploaded on commit.</summary>
    public Task<IPendingFile> BeginAsync(FileKind kind, BlobType? packOf = null, CancellationToken ct = default)
    {
        var tagged = kind == FileKind.Pack && packOf == BlobType.Data;
        return Task.FromResult<IPendingFile>(new BufferedPendingFile((name, data, c) => PutAsync(new FileHandle(kind, name), data, tagged, c)));
    }

    public async Task<byte[]> LoadAsync(FileHandle file, long offset = 0, int length = 0, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        byte[]? result = null;
        await GetAsync(file, offset, length, async (body, available, c) =>
        {
            result = GC.AllocateUninitializedArray<byte>(length > 0 ? length : available);
            await body.ReadExactlyAsync(result, c);
        }, ct);
        return result!;
    }

    public Task LoadIntoAsync(FileHandle file, long offset, Memory<byte> destination, CancellationToken ct = default) =>
        destination.Length == 0 ? Task.CompletedTask
            : GetAsync(file, offset, destination.Length, async (body, _, c) => await body.ReadExactlyAsync(destination, c), ct);

    /// <summary>
    /// GETs <paramref name="length"/> bytes at <paramref name="offset"/> (0: to the end) and hands <paramref name="read"/>
    /// the body positioned at the offset, with the number of bytes available from there.
    /// </summary>
    private async Task GetAsync(FileHandle file, long offset, int length, Func<Stream, int, CancellationToken, Task> read, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        try
        {
            var (start, available) = await RunAsync($"load {file}", async c =>
            {
                var request = new GetObjectRequest { BucketName = _bucket, Key = Key(file) };
                if (length > 0) request.ByteRange = new ByteRange(offset, offset + length - 1);
                else if (offset > 0) request.ByteRange = new ByteRange($"bytes={offset}-");
                using var response = await _client.GetObjectAsync(request, c);
                // A store may send more than asked: the whole object when it ignores Range (200), or, as s3rver does
                // for "bytes=0-0", a longer range. Content-Range says where the bytes begin.
                var from = RangeStart(response.ContentRange);
                var left = checked((int)(response.ContentLength - (offset - from)));
                if (from > offset || length > 0 && left < length) return (from, left);
                await SkipAsync(response.ResponseStream, offset - from, c);
                // A body cut short throws EndOfStreamException (an IOException): retried like a dropped connection.
                await read(response.ResponseStream, left, c);
                return (from, left);
            }, ct);
            if (start > offset)
                throw new InvalidDataException($"{Location}: asked for {file} from byte {offset}, got bytes from {start}");
            if (length > 0 && available < length)
                throw new EndOfStreamException($"{file}: {length} bytes at {offset} beyond its size {offset + available}");
        }
        catch (AmazonServiceException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            throw new FileNotFoundInBackendException(file.ToString());
        }
        catch (AmazonServiceException e) when (e.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            throw new EndOfStreamException($"{file}: offset {offset} beyond its size");
        }
    }

    private static async Task SkipAsync(Stream body, long count, CancellationToken ct)
    {
        if (count == 0) return;
        var scratch = new byte[(int)Math.Min(count, 64 << 10)];
        for (long skipped = 0; skipped < count;)
        {
            var n = (int)Math.Min(scratch.Length, count - skipped);
            await body.ReadExactlyAsync(scratch.AsMemory(0, n), ct);
            skipped += n;
        }
    }

    /// <summary>First byte of "bytes 100-199/1000"; 0 when the answer is the whole object.</summary>
    private static long RangeStart(string? contentRange)
    {
        if (string.IsNullOrEmpty(contentRange)) return 0;
        var range = contentRange.AsSpan(contentRange.IndexOf(' ') + 1);
        return long.Parse(range[..range.IndexOf('-')], System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<long?> StatAsync(FileHandle file, CancellationToken ct = default)
    {
        try
        {
            return await RunAsync<long?>($"stat {file}", async c =>
                (await _client.GetObjectMetadataAsync(_bucket, Key(file), c)).ContentLength, ct);
        }
        catch (AmazonServiceException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async IAsyncEnumerable<(string Name, long Size)> ListAsync(FileKind kind, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var folder = FileLayout.Folder(kind);
        var prefix = folder.Length == 0 ? KeyOf("") : KeyOf(folder + "/");
        // No delimiter, even for the flat folders: stores such as s3rver leave out common prefixes that hold
        // only sub-prefixes (data/ holds only data/xx/), so a delimiter listing is not trustworthy.
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = prefix };
        while (true)
        {
            ListObjectsV2Response page;
            try
            {
                page = await RunAsync($"list {(folder.Length == 0 ? "/" : folder)}", c => _client.ListObjectsV2Async(request, c), ct);
            }
            catch (AmazonServiceException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                yield break; // no bucket, so no files
            }
            foreach (var o in page.S3Objects ?? [])
            {
                var relative = o.Key[prefix.Length..];
                var slash = relative.LastIndexOf('/');
                // Packs sit one level down (data/xx/id); elsewhere, deeper keys are not repository files.
                if (slash >= 0 && kind != FileKind.Pack) continue;
                var name = relative[(slash + 1)..];
                if (name.Length > 0) yield return (name, o.Size ?? 0);
            }
            if (page.IsTruncated != true) yield break;
            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    public async Task RemoveAsync(FileHandle file, CancellationToken ct = default)
    {
        try
        {
            await RunAsync($"remove {file}", c => _client.DeleteObjectAsync(_bucket, Key(file), c), ct);
        }
        catch (AmazonServiceException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            // no bucket, so nothing to remove
        }
        catch (Exception e) when (Answered(e, HttpStatusCode.Forbidden))
        {
            var answer = e as AmazonServiceException ?? (AmazonServiceException)e.InnerException!;
            throw new RemovalRefusedException(file.ToString(), RetryLoop.Reason(answer), answer);
        }
    }

    /// <summary>Folders do not exist in S3; only the bucket has to. It is created when absent (as restic does).</summary>
    public async Task CreateAsync(CancellationToken ct = default)
    {
        try
        {
            await RunAsync($"check bucket {_bucket}", c => _client.HeadBucketAsync(new HeadBucketRequest { BucketName = _bucket }, c), ct);
            return;
        }
        catch (AmazonServiceException e) when (e.StatusCode == HttpStatusCode.NotFound) { }
        try
        {
            await RunAsync($"create bucket {_bucket}", c => _client.PutBucketAsync(new PutBucketRequest { BucketName = _bucket }, c), ct);
        }
        catch (BackendUnavailableException e) when (e.InnerException is AmazonServiceException { ErrorCode: "BucketAlreadyOwnedByYou" })
        {
            // created by someone else between our check and our request
        }
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        _requests.Dispose();
        if (_trustedRoots != null) foreach (var c in _trustedRoots) c.Dispose();
        return ValueTask.CompletedTask;
    }

    private Task<T> RunAsync<T>(string what, Func<CancellationToken, Task<T>> call, CancellationToken ct) => _retries.RunAsync(what, call, ct);

    /// <summary>The signing region, and whether the endpoint is AWS's own.</summary>
    internal static (string Region, bool IsAws) Addressing(Uri endpoint, string? region)
    {
        var aws = AwsHost().Match(endpoint.Host);
        // The host names the region for AWS and wins over the environment: a request signed for another region
        // is refused. Other stores mostly ignore the region, but it is part of every signature.
        region ??= aws.Groups["region"].Success ? aws.Groups["region"].Value : null;
        region ??= NonEmpty(Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION"))
            ?? NonEmpty(Environment.GetEnvironmentVariable("AWS_REGION"))
            ?? "us-east-1";
        return (region, aws.Success);
    }

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    /// <summary>s3.amazonaws.com, s3.&lt;region&gt;.amazonaws.com, s3-&lt;region&gt;.amazonaws.com (and .cn).</summary>
    [GeneratedRegex(@"^s3(?:[.-](?<region>[a-z]{2}(?:-[a-z]+)+-\d+))?\.amazonaws\.com(?:\.cn)?$", RegexOptions.IgnoreCase)]
    private static partial Regex AwsHost();

    /// <summary>
    /// Gives the SDK HttpClients that trust a private CA (restic's --cacert) instead of the system roots, and
    /// give up connecting after a bounded time, and note the store's clock. Otherwise like the SDK's own: no
    /// redirects, no decompression.
    /// </summary>
    private sealed class S3HttpClientFactory(X509Certificate2Collection? trustedRoots, TimeSpan connectTimeout, ClockSkew clock) : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig)
        {
            var handler = new SocketsHttpHandler
            {
                AllowAutoRedirect = clientConfig.AllowAutoRedirect,
                AutomaticDecompression = DecompressionMethods.None,
                ConnectTimeout = connectTimeout,
            };
            if (trustedRoots != null) handler.SslOptions.RemoteCertificateValidationCallback = Validate;
            // RunAsync times each attempt out; HttpClient's 100 s default would cut off large uploads on slow links.
            return new HttpClient(clock.Handler(handler)) { Timeout = Timeout.InfiniteTimeSpan };
        }

        private bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
        {
            if (certificate is not X509Certificate2 leaf) return false;
            if ((errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
                return false;
            using var custom = new X509Chain();
            custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            custom.ChainPolicy.CustomTrustStore.AddRange(trustedRoots!);
            // A private CA rarely publishes revocation lists; restic does not check them either.
            custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            // Intermediates the server sent along.
            if (chain != null) custom.ChainPolicy.ExtraStore.AddRange(chain.ChainPolicy.ExtraStore);
            return custom.Build(leaf);
        }
    }
}
