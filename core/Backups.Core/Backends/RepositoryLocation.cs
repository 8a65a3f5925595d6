using System.Text.RegularExpressions;
using Amazon.Runtime;
using Backups.Core.Repositories;

namespace Backups.Core.Backends;

/// <summary>How to reach a store. Everything is optional; S3 settings are ignored by local repositories.</summary>
/// <param name="CaCertFile">PEM file with the CA certificate(s) to trust instead of the system's (restic's --cacert).</param>
/// <param name="Region">S3 signing region; by default the one in an AWS host name, else AWS_DEFAULT_REGION,
/// AWS_REGION, us-east-1.</param>
/// <param name="PathStyle">S3 path-style addressing; by default virtual-hosted for AWS hosts, path style elsewhere.</param>
/// <param name="Credentials">S3 credentials; by default AWSSDK.Core's chain (environment, profile, instance role).</param>
/// <param name="Retry">Retry and timeout settings; <see cref="RetrySettings.Default"/> when null.</param>
/// <param name="Deadline">When the caller must be done (a Lambda invocation's end): no retry waits past it, and a
/// call still failing then ends as unavailable instead of running into the caller's own cut-off.</param>
/// <param name="Connections">S3: how many requests may be in flight at once (restic's -o s3.connections); by
/// default <see cref="S3Backend.DefaultConnections"/>.</param>
public sealed record BackendOptions(
    string? CaCertFile = null,
    string? Region = null,
    bool? PathStyle = null,
    AWSCredentials? Credentials = null,
    RetrySettings? Retry = null,
    DateTimeOffset? Deadline = null,
    int? Connections = null);

public sealed class RepositoryLocationException(string message) : ClassifiedException(ErrorKind.ConfigError, message);

/// <summary>A repository string as restic spells it (a path, local:PATH, s3:...), parsed.</summary>
public abstract partial record RepositoryLocation
{
    private const string S3Forms = "s3:<host>/<bucket>[/<prefix>] or s3:https://<host>[:<port>]/<bucket>[/<prefix>]";

    public abstract IBackend CreateBackend(BackendOptions options);

    public static IBackend Open(string repository, BackendOptions? options = null) =>
        Parse(repository).CreateBackend(options ?? new BackendOptions());

    public static RepositoryLocation Parse(string repository)
    {
        if (string.IsNullOrWhiteSpace(repository))
            throw new RepositoryLocationException("no repository given");
        var scheme = Scheme().Match(repository);
        if (!scheme.Success) return new LocalRepositoryLocation(repository);
        var rest = repository[scheme.Length..];
        return scheme.Groups[1].Value.ToLowerInvariant() switch
        {
            "local" when rest.Length > 0 => new LocalRepositoryLocation(rest),
            "local" => throw new RepositoryLocationException("local: needs a path, e.g. local:/srv/backups"),
            "s3" => ParseS3(rest),
            // Without this a typo (or an unsupported restic backend) would quietly become a local folder.
            var other => throw new RepositoryLocationException(
                $"repository type '{other}:' is not supported (use a path, local:<path> or {S3Forms}; " +
                "a local path that contains ':' can be written local:<path>)"),
        };
    }

    private static S3RepositoryLocation ParseS3(string rest)
    {
        if (rest.StartsWith("//", StringComparison.Ordinal))
            throw new RepositoryLocationException($"'s3://' is not a restic repository; write {S3Forms}");
        var hasScheme = rest.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
            || rest.StartsWith("http://", StringComparison.OrdinalIgnoreCase);
        var url = hasScheme ? rest : "https://" + rest;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
            throw new RepositoryLocationException($"'s3:{rest}' is not a valid S3 location; write {S3Forms}");
        if (uri.UserInfo.Length > 0)
            throw new RepositoryLocationException(
                "credentials do not belong in the repository string; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
        if (uri.Query.Length > 0 || uri.Fragment.Length > 0)
            throw new RepositoryLocationException($"'s3:{rest}' has a query or fragment; write {S3Forms}");
        // From the string as written: Uri resolves "a/../b", which must not quietly pick another bucket.
        var authorityAndPath = url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var path = authorityAndPath.Contains('/') ? authorityAndPath[authorityAndPath.IndexOf('/')..] : "";
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        if (segments.Length == 0)
            throw new RepositoryLocationException($"'s3:{rest}' names no bucket; write {S3Forms}");
        if (segments.Any(s => s is "." or ".."))
            throw new RepositoryLocationException($"'s3:{rest}': '.' and '..' are not allowed in a bucket or prefix");
        return new S3RepositoryLocation(new Uri(uri.GetLeftPart(UriPartial.Authority)), segments[0], string.Join('/', segments[1..]));
    }

    /// <summary>A URI-like scheme of at least two characters, so that a Windows drive letter stays a path.</summary>
    [GeneratedRegex("^([A-Za-z][A-Za-z0-9+.-]+):")]
    private static partial Regex Scheme();
}

public sealed record LocalRepositoryLocation(string Path) : RepositoryLocation
{
    public override IBackend CreateBackend(BackendOptions options) => new LocalBackend(Path);
    public override string ToString() => Path;
}

/// <param name="Endpoint">scheme://host[:port] only.</param>
/// <param name="Prefix">Folder inside the bucket, without leading or trailing '/'; empty for the bucket's root.</param>
public sealed record S3RepositoryLocation(Uri Endpoint, string Bucket, string Prefix) : RepositoryLocation
{
    public override IBackend CreateBackend(BackendOptions options) => new S3Backend(this, options);

    public override string ToString() =>
        $"s3:{Endpoint.GetLeftPart(UriPartial.Authority)}/{Bucket}{(Prefix.Length == 0 ? "" : "/" + Prefix)}";
}
