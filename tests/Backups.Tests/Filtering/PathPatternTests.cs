using Backups.Core.Archiving;
using Backups.Core.Filtering;
using Xunit;

namespace Backups.Tests.Filtering;

public sealed class PathPatternTests
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
    [InlineData("file-[^0-9].txt", "/d/file-7.txt", false)]
    // Go's filepath.Match (so restic) negates with ^ only: "!" is just one more character of the class.
    [InlineData("file-[!0-9].txt", "/d/file-7.txt", true)]
    [InlineData("?.db", "/d/a.db", true)]
    [InlineData("?.db", "/d/ab.db", false)]
    public void Matches_as_restic_does(string pattern, string path, bool excluded) =>
        Assert.Equal(excluded, new PathPattern(pattern).Matches(path));

    /// <summary>Restore descends only where an include may still match below (restic's filter.ChildMatch).</summary>
    [Theory]
    [InlineData("*.txt", "/any/where", true)]
    [InlineData("/srv/app/logs", "/srv", true)]
    [InlineData("/srv/app/logs", "/srv/app", true)]
    [InlineData("/srv/app/logs", "/srv/other", false)]
    [InlineData("/srv/app/logs", "/home", false)]
    [InlineData("/srv/**/logs", "/srv/a/b/c", true)]
    [InlineData("/srv/**/logs", "/var", false)]
    [InlineData("/s*/app", "/srv/app/x", true)]
    public void Child_may_match_as_restic_decides(string pattern, string directory, bool mayMatch) =>
        Assert.Equal(mayMatch, new PathPattern(pattern).ChildMayMatch(directory));
}
