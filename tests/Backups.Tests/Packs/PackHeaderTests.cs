using Backups.Core;
using Backups.Core.Packs;
using Backups.Core.Repositories;
using Xunit;

namespace Backups.Tests.Packs;

public sealed class PackHeaderTests
{
    [Fact]
    public void Round_trips_plain_and_compressed_entries_with_offsets()
    {
        PackEntry[] entries =
        [
            new(Id.Hash([1]), BlobType.Data, 100, 0),
            new(Id.Hash([2]), BlobType.Tree, 50, 400),
            new(Id.Hash([3]), BlobType.Data, 70, 90),
        ];
        var buffer = new byte[PackHeader.Size(entries)];
        Assert.Equal(37 + 41 + 41, PackHeader.Write(entries, buffer));
        var parsed = PackHeader.Parse(buffer, "data/x");
        Assert.Equal(entries, parsed.Select(p => p.Entry));
        Assert.Equal([0u, 100u, 150u], parsed.Select(p => p.Offset));
    }

    [Fact]
    public void A_truncated_header_is_damage_naming_the_pack()
    {
        var buffer = new byte[41];
        buffer[0] = 2;
        var e = Assert.Throws<RepositoryException>(() => PackHeader.Parse(buffer.AsSpan(0, 30), "data/ab/abc"));
        Assert.Equal(ErrorKind.Damaged, e.Kind);
        Assert.Contains("data/ab/abc", e.Message);
    }
}
