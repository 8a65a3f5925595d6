using Backups.Aws.Secrets;
using Xunit;

namespace Backups.Tests.Aws;

public sealed class SecretScrubberTests
{
    [Theory]
    [InlineData("PGPASSWORD=hunter2 pg_dump app", "PGPASSWORD=[redacted] pg_dump app")]
    [InlineData("REDISCLI_AUTH=s3cret redis-cli", "REDISCLI_AUTH=[redacted] redis-cli")]
    [InlineData("""{"taskToken": "abc", "password":"p4ss"}""", """{"taskToken": "[redacted]", "password":"[redacted]"}""")]
    [InlineData("postgres://backup:pa55word@db:5432/app", "postgres://backup:[redacted]@db:5432/app")]
    [InlineData("wrong password: no key opens the repository", "wrong password: no key opens the repository")]
    [InlineData("snapshot 63d2e804fc4dea6765ec98a6b2b2f54b8bd39311a3ea7db789d45d042b26d585 saved", "snapshot 63d2e804fc4dea6765ec98a6b2b2f54b8bd39311a3ea7db789d45d042b26d585 saved")]
    public void Masks_what_looks_like_a_secret_and_nothing_else(string text, string expected) =>
        Assert.Equal(expected, SecretScrubber.Scrub(text));

    [Fact]
    public void Masks_an_opaque_token_anywhere()
    {
        var token = "AQCEAAAAKgAAAAMAAAAAAAAAAQ" + new string('k', 150);

        Assert.Equal("failed (token [redacted]) at 03:00", SecretScrubber.Scrub($"failed (token {token}) at 03:00"));
    }

    [Fact]
    public void The_redactor_masks_the_longer_of_two_overlapping_secrets_whole()
    {
        var redactor = new Redactor();
        redactor.Add("abc");
        redactor.Add("abcdef");

        Assert.Equal("[redacted] and [redacted]", redactor.Redact("abcdef and abc"));
    }
}
