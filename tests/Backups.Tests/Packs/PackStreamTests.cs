using Backups.Core.Packs;
using Xunit;

namespace Backups.Tests.Packs;

/// <summary>How packs are read: few requests, every wanted blob handed out once, whole files covered for a check.</summary>
public sealed class PackStreamTests
{
    private static PackSpan[] BackToBack(params long[] lengths)
    {
        var spans = new PackSpan[lengths.Length];
        long offset = 0;
        for (var i = 0; i < lengths.Length; i++)
        {
            spans[i] = new PackSpan(offset, lengths[i]);
            offset += lengths[i];
        }
        return spans;
    }

    [Fact]
    public void Neighbours_are_read_together_within_a_window()
    {
        var windows = PackStream.Plan(BackToBack(100, 200, 300), windowSize: 1000);
        Assert.Equal([new PackStream.Window(0, 600, 0, 3)], windows);
    }

    [Fact]
    public void A_gap_wider_than_a_MiB_costs_a_second_request_and_a_narrow_one_does_not()
    {
        PackSpan[] blobs = [new(0, 10), new(10 + PackStream.MaxGap, 10), new(30 + 2 * PackStream.MaxGap + 1, 10)];
        var windows = PackStream.Plan(blobs, windowSize: 64 << 20);
        Assert.Equal([new PackStream.Window(0, 20 + PackStream.MaxGap, 0, 2), new PackStream.Window(blobs[2].Offset, blobs[2].End, 2, 3)], windows);
    }

    [Fact]
    public void A_blob_bigger_than_the_window_gets_a_window_of_its_own()
    {
        var windows = PackStream.Plan(BackToBack(10, 5000, 10), windowSize: 1000);
        Assert.Equal([new PackStream.Window(0, 10, 0, 1), new PackStream.Window(10, 5010, 1, 2), new PackStream.Window(5010, 5020, 2, 3)], windows);
    }

    /// <summary>Random layouts, both modes: each blob lies in exactly one window that holds it whole; windows stay
    /// within the window size unless one blob is bigger; a whole-file plan covers every byte once, in order.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Every_blob_is_handed_out_once(int seed)
    {
        var random = new Random(seed);
        for (var round = 0; round < 200; round++)
        {
            var blobs = new List<PackSpan>();
            long offset = 0;
            for (var n = random.Next(0, 40); n > 0; n--)
            {
                offset += random.Next(4) == 0 ? random.Next(0, 3 << 20) : 0;
                var length = random.Next(1, 4) == 1 ? random.Next(1, 12 << 20) : random.Next(1, 4096);
                blobs.Add(new PackSpan(offset, length));
                offset += length;
            }
            var size = offset + random.Next(0, 1000);
            long window = random.Next(1, 20) << 20;
            foreach (var whole in new long?[] { null, size })
            {
                var windows = PackStream.Plan(blobs, window, whole);
                var handed = new int[blobs.Count];
                foreach (var w in windows)
                {
                    Assert.True(w.End - w.Start <= window || (w.Last - w.First == 1 && blobs[w.First] is var b && b.Offset == w.Start && b.End == w.End));
                    for (var i = w.First; i < w.Last; i++)
                        if (blobs[i].Offset >= w.Start && blobs[i].End <= w.End) handed[i]++;
                }
                Assert.All(handed, h => Assert.Equal(1, h));
                if (whole == null) continue;
                long position = 0;
                foreach (var w in windows)
                {
                    Assert.Equal(position, w.Start);
                    Assert.True(w.End > w.Start);
                    position = w.End;
                }
                Assert.Equal(size, position);
            }
        }
    }
}
