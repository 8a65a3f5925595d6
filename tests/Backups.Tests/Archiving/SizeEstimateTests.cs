using Backups.Core.Archiving;
using Backups.Core.Filtering;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Archiving;

public sealed class SizeEstimateTests
{
    [Fact]
    public void Counts_what_a_paths_backup_reads_minus_excludes_and_links()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.Combine("a", "b"));
        File.WriteAllBytes(dir.Combine("a", "one"), new byte[1000]);
        File.WriteAllBytes(dir.Combine("a", "b", "two"), new byte[234]);
        File.WriteAllBytes(dir.Combine("a", "b", "skip.tmp"), new byte[5000]);
        File.CreateSymbolicLink(dir.Combine("a", "link"), dir.Combine("a", "one"));
        File.WriteAllBytes(dir.Combine("single"), new byte[7]);

        var total = SizeEstimate.Of([dir.Combine("a"), dir.Combine("single")], [new PathPattern("*.tmp")], CancellationToken.None);

        Assert.Equal(1000 + 234 + 7, total);
    }
}
