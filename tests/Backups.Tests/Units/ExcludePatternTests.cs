using Backups.Core.Archiving;
using Xunit;

namespace Backups.Tests.Units;

public sealed class ExcludePatternTests
{
    [Theory]
    [InlineData("*.log", "/var/log/app.log", true)]
    [InlineData("*.log", "/var/log/app.log.1", false)]
    [InlineData("cache", "/home/u/cache/x/y", true)]
    [InlineData("cache", "/home/u/cached", false)]
    [InlineData("/home/u/tmp", "/home/u/tmp/file", true)]
    [InlineData("/home/u/tmp", "/other/home/u/tmp", false)]
    [InlineData("/srv/**/node_modules", "/srv/a/b/node_modules/x", true)]
    [InlineData("/srv/**/node_modules", "/srv/node_modules", true)]
    [InlineData("file-[0-9].txt", "/d/file-7.txt", true)]
    [InlineData("file-[!0-9].txt", "/d/file-7.txt", false)]
    [InlineData("?.db", "/d/a.db", true)]
    [InlineData("?.db", "/d/ab.db", false)]
    public void Matches_as_restic_does(string pattern, string path, bool excluded) =>
        Assert.Equal(excluded, new ExcludePattern(pattern).Matches(path));
}
