using Backups.Core.Pruning;
using Backups.Core.Repositories;
using Xunit;

namespace Backups.Tests.Pruning;

/// <summary>--max-unused as restic reads it: a percentage of the used size, a size in bytes or "unlimited".</summary>
public sealed class MaxUnusedTests
{
    [Theory]
    [InlineData("5%", 1_000_000UL, 52_631UL)]     // 5 / 95 of the used bytes
    [InlineData("0%", 1_000_000UL, 0UL)]
    [InlineData("50%", 1_000UL, 1_000UL)]
    [InlineData("0", 1_000_000UL, 0UL)]
    [InlineData("1234", 1UL, 1234UL)]
    [InlineData("100k", 1UL, 100UL << 10)]
    [InlineData("3M", 1UL, 3UL << 20)]
    [InlineData("2G", 1UL, 2UL << 30)]
    [InlineData("1T", 1UL, 1UL << 40)]
    [InlineData("unlimited", 1UL, ulong.MaxValue)]
    public void Allows_what_restic_allows(string text, ulong used, ulong allowed) =>
        Assert.Equal(allowed, MaxUnused.Parse(text).Allowed(used));

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("100%")]
    [InlineData("-1%")]
    [InlineData("5x")]
    [InlineData("-5")]
    public void Rejects_what_restic_rejects(string text) =>
        Assert.Equal(ErrorKind.InvalidArgument, Assert.Throws<RepositoryException>(() => MaxUnused.Parse(text)).Kind);
}
