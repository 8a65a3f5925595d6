using Backups.Core.Backends;
using Xunit;

namespace Backups.Tests.Backends;

public sealed class RepositoryLocationTests
{
    [Theory]
    [InlineData("/srv/backups", "/srv/backups")]
    [InlineData("relative/repo", "relative/repo")]
    [InlineData("./odd:name", "./odd:name")]
    [InlineData("local:/srv/backups", "/srv/backups")]
    [InlineData("local:relative:with:colons", "relative:with:colons")]
    public void Local_forms(string repository, string path) =>
        Assert.Equal(new LocalRepositoryLocation(path), RepositoryLocation.Parse(repository));

    [Theory]
    [InlineData("s3:s3.eu-west-1.amazonaws.com/bucket/some/prefix", "https://s3.eu-west-1.amazonaws.com", "bucket", "some/prefix")]
    [InlineData("s3:s3.amazonaws.com/bucket", "https://s3.amazonaws.com", "bucket", "")]
    [InlineData("s3:https://127.0.0.1:9000/bucket/prefix", "https://127.0.0.1:9000", "bucket", "prefix")]
    [InlineData("s3:http://minio.internal:9000/bucket/a/b/c", "http://minio.internal:9000", "bucket", "a/b/c")]
    [InlineData("s3:minio.internal/bucket/", "https://minio.internal", "bucket", "")]
    [InlineData("s3:HTTPS://Host.Example:443/bucket//a//b/", "https://host.example", "bucket", "a/b")]
    [InlineData("s3:https://[::1]:9000/bucket/p", "https://[::1]:9000", "bucket", "p")]
    public void S3_forms(string repository, string endpoint, string bucket, string prefix) =>
        Assert.Equal(new S3RepositoryLocation(new Uri(endpoint), bucket, prefix), RepositoryLocation.Parse(repository));

    [Theory]
    [InlineData("", "no repository")]
    [InlineData("   ", "no repository")]
    [InlineData("local:", "needs a path")]
    [InlineData("s3:", "not a valid S3 location")]
    [InlineData("s3:host.example", "names no bucket")]
    [InlineData("s3:https://127.0.0.1:9000/", "names no bucket")]
    [InlineData("s3:https://", "not a valid S3 location")]
    [InlineData("s3://bucket/prefix", "'s3://' is not a restic repository")]
    [InlineData("s3:https://AKIA:secret@host/bucket", "credentials do not belong")]
    [InlineData("s3:https://host/bucket/prefix?versionId=1", "query")]
    [InlineData("s3:https://host/bucket/../other", "'..'")]
    [InlineData("sftp:user@host:/srv/restic", "'sftp:' is not supported")]
    [InlineData("rest:https://host:8000/", "'rest:' is not supported")]
    [InlineData("b2:bucket:path", "'b2:' is not supported")]
    public void Malformed_or_unsupported(string repository, string expected)
    {
        var e = Assert.Throws<RepositoryLocationException>(() => RepositoryLocation.Parse(repository));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.DoesNotContain("secret", e.Message);
    }

    [Fact]
    public async Task Opens_the_right_backend()
    {
        using var dir = new Support.TempDir();
        await using (var local = RepositoryLocation.Open(dir.Path))
            Assert.Equal(dir.Path, Assert.IsType<LocalBackend>(local).Root);
        await using (var s3 = RepositoryLocation.Open("s3:https://127.0.0.1:9000/bucket/prefix"))
            Assert.Equal("s3:https://127.0.0.1:9000/bucket/prefix", Assert.IsType<S3Backend>(s3).Location);
    }

    [Theory]
    [InlineData("https://s3.eu-west-1.amazonaws.com", null, "eu-west-1", true)]
    [InlineData("https://s3-us-west-2.amazonaws.com", null, "us-west-2", true)]
    [InlineData("https://s3.us-gov-west-1.amazonaws.com", null, "us-gov-west-1", true)]
    [InlineData("https://s3.cn-north-1.amazonaws.com.cn", null, "cn-north-1", true)]
    [InlineData("https://s3.eu-west-1.amazonaws.com", "eu-central-1", "eu-central-1", true)]
    [InlineData("https://127.0.0.1:9000", "eu-central-1", "eu-central-1", false)]
    [InlineData("https://s3.eu-west-1.example.com", "us-east-1", "us-east-1", false)]
    public void Region_and_addressing(string endpoint, string? option, string region, bool aws) =>
        Assert.Equal((region, aws), S3Backend.Addressing(new Uri(endpoint), option));
}
