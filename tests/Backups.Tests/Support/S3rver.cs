using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Amazon.Runtime;
using Backups.Core.Backends;
using Xunit;

namespace Backups.Tests.Support;

[CollectionDefinition("s3")]
public sealed class S3Collection : ICollectionFixture<S3rverFixture>;

/// <summary>
/// s3rver (a local S3 stand-in, from tests/stack) over HTTPS with a throwaway self-signed certificate.
/// HTTPS because over plain HTTP s3rver stores aws-chunked upload bodies undecoded.
/// </summary>
public sealed class S3rverFixture : IAsyncLifetime
{
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";
    public const string Region = "us-east-1";
    public const string Bucket = "backups-test";

    private readonly TempDir _dir = new();
    private readonly StringBuilder _output = new();
    private Process? _process;

    /// <summary>https://127.0.0.1:PORT</summary>
    public Uri Endpoint { get; private set; } = null!;

    public string CaCertPath => _dir.Combine("cert.pem");

    public string DataDirectory => _dir.Combine("data");

    /// <summary>Environment for restic or our CLI as child processes (the test process itself uses <see cref="Options"/>).</summary>
    public IReadOnlyDictionary<string, string> Env { get; } = new Dictionary<string, string>
    {
        ["AWS_ACCESS_KEY_ID"] = AccessKey,
        ["AWS_SECRET_ACCESS_KEY"] = SecretKey,
        ["AWS_DEFAULT_REGION"] = Region,
    };

    public BackendOptions Options(RetrySettings? retry = null) =>
        new(CaCertFile: CaCertPath, Region: Region, Credentials: new BasicAWSCredentials(AccessKey, SecretKey), Retry: retry);

    /// <summary>A repository string for a prefix nobody used before, in the given bucket (default: the one s3rver made).</summary>
    public string NewRepository(string bucket = Bucket) =>
        $"s3:{Endpoint.GetLeftPart(UriPartial.Authority)}/{bucket}/repo-{Guid.NewGuid():N}";

    /// <summary>The bytes s3rver holds for an object, read from its data directory (not through S3).</summary>
    public byte[] StoredObject(string bucket, string key) =>
        File.ReadAllBytes(Path.Combine([DataDirectory, bucket, .. key.Split('/')]) + "._S3rver_object");

    /// <summary>Puts an object into the bucket s3rver made, with a signed PUT from curl (as the agent's SSM document
    /// signs its download); returns the object's URL.</summary>
    public async Task<string> PutObjectAsync(string key, byte[] bytes)
    {
        var file = _dir.Combine($"upload-{Guid.NewGuid():N}");
        await File.WriteAllBytesAsync(file, bytes);
        var url = $"{Endpoint.GetLeftPart(UriPartial.Authority)}/{Bucket}/{key}";
        (await Processes.RunAsync("curl", ["-fsS", "--cacert", CaCertPath, "--aws-sigv4", $"aws:amz:{Region}:s3", "--user", $"{AccessKey}:{SecretKey}",
            // S3 wants the payload's hash in a header; curl (7.88) does not add it.
            "-H", $"x-amz-content-sha256: {Convert.ToHexStringLower(SHA256.HashData(bytes))}",
            "-T", file, url])).EnsureSuccess("curl PUT " + url);
        File.Delete(file);
        return url;
    }

    public async Task InitializeAsync()
    {
        var script = TestStack.Script("s3rver", "bin", "s3rver.js");
        WriteCertificate();

        var psi = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Port 0: s3rver picks a free port and prints it, so there is no race for a port chosen beforehand.
        // s3rver makes ListObjectsV2 continuation tokens with DES, which OpenSSL 3 (node >= 17) only has in its
        // legacy provider: without it every truncated listing fails with 500 InternalError.
        foreach (var a in new[] { "--openssl-legacy-provider", script, "-d", DataDirectory, "-a", "127.0.0.1", "-p", "0", "--silent",
                     "--key", _dir.Combine("key.pem"), "--cert", CaCertPath, "--configure-bucket", Bucket })
            psi.ArgumentList.Add(a);

        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        _process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        // Drain both pipes all the time: a full pipe would stall s3rver.
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data == null) return;
            Remember(e.Data);
            const string marker = "S3rver listening on ";
            if (e.Data.StartsWith(marker, StringComparison.Ordinal))
                listening.TrySetResult(new Uri("https://" + e.Data[marker.Length..].Trim()));
        };
        _process.ErrorDataReceived += (_, e) => { if (e.Data != null) Remember(e.Data); };
        _process.Exited += (_, _) =>
        {
            if (!listening.Task.IsCompleted)
                listening.TrySetException(new InvalidOperationException($"s3rver exited early ({_process.ExitCode}):\n{Output()}"));
        };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        try
        {
            Endpoint = await listening.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            throw new InvalidOperationException($"s3rver did not start within 30 s:\n{Output()}");
        }
        await WaitUntilAnsweringAsync();
    }

    private void Remember(string line)
    {
        lock (_output) _output.AppendLine(line);
    }

    private string Output()
    {
        lock (_output) return _output.ToString();
    }

    /// <summary>The printed line comes after listen(); still, prove that a TLS request gets an answer.</summary>
    private async Task WaitUntilAnsweringAsync()
    {
        using var handler = new HttpClientHandler();
        using var trusted = X509CertificateLoader.LoadCertificateFromFile(CaCertPath);
        handler.ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert?.Thumbprint == trusted.Thumbprint;
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                using var response = await http.GetAsync(Endpoint);
                return; // any HTTP answer (s3rver says 403 without a signature) means it serves
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>A self-signed certificate for 127.0.0.1, which is its own CA: restic and our backend trust it
    /// through --cacert / <see cref="BackendOptions.CaCertFile"/>.</summary>
    private void WriteCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1")], false)); // server authentication
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        File.WriteAllText(CaCertPath, cert.ExportCertificatePem());
        File.WriteAllText(_dir.Combine("key.pem"), key.ExportPkcs8PrivateKeyPem());
    }


    public async Task DisposeAsync()
    {
        if (_process != null)
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                await _process.WaitForExitAsync();
            }
            _process.Dispose();
        }
        _dir.Dispose();
    }
}
