using Backups.Core;
using Backups.Core.Checking;
using Xunit;
using static Backups.Tests.Checking.CheckTools;

namespace Backups.Tests.Checking;

/// <summary>Which packs a check reads: slices partition the packs, a rotation reads each once per cycle, restic's
/// n/t buckets follow its rule, a percentage is that share, and a deadline stops reading without an error.</summary>
public sealed class PackSelectionTests(CheckedRepositories repositories) : IClassFixture<CheckedRepositories>
{
    private static readonly List<Id> Packs = Enumerable.Range(0, 2000).Select(_ => Id.Random())
        .Concat([Id.Parse(new string('0', 64)), Id.Parse(new string('f', 64))]).Order().ToList();

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(64)]
    public void Slices_partition_all_packs(int total)
    {
        var slices = Enumerable.Range(1, total).Select(n => PackSelection.Slice(n, total).Select(Packs)).ToList();
        AssertPartition(slices);
        Assert.Contains(Packs[0], slices[0]);
        Assert.Contains(Packs[^1], slices[^1]);
        if (total <= 7) Assert.All(slices, s => Assert.InRange(s.Count, Packs.Count / total / 2, Packs.Count / total * 2));
    }

    [Fact]
    public void Rotation_reads_every_pack_once_per_cycle()
    {
        var start = new DateOnly(2026, 11, 20);
        var week = Enumerable.Range(0, 7).Select(d => PackSelection.Rotation(start.AddDays(d), 7).Select(Packs)).ToList();
        AssertPartition(week);
        Assert.Equal(week[0], PackSelection.Rotation(start.AddDays(7), 7).Select(Packs));
        Assert.Contains("2026-11-20", PackSelection.Rotation(start, 7).Description);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(16)]
    public void A_split_selects_exactly_what_it_splits_each_pack_once(int parts)
    {
        var day = new DateOnly(2026, 12, 2);
        foreach (var whole in new[] { PackSelection.All, PackSelection.Rotation(day, 7), PackSelection.Slice(7, 7) })
        {
            var split = whole.Split(parts);
            Assert.Equal(parts, split.Count);
            var selected = split.Select(p => PackSelection.Slice(p.Slice, p.Slices).Select(Packs)).ToList();
            Assert.Equal(whole.Select(Packs), selected.SelectMany(p => p).Order());
            Assert.Equal(whole.Select(Packs).Count, selected.Sum(p => p.Count));
        }
        Assert.Throws<NotSupportedException>(() => PackSelection.Bucket(1, 5).Split(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => PackSelection.Slice(1, 3).Split(int.MaxValue / 2));
    }

    [Fact]
    public void Subset_n_of_t_is_restics_first_byte_bucket()
    {
        var buckets = Enumerable.Range(1, 5).Select(n => PackSelection.Bucket(n, 5).Select(Packs)).ToList();
        AssertPartition(buckets);
        for (var n = 1; n <= 5; n++)
            Assert.All(buckets[n - 1], id => Assert.Equal(n - 1, Convert.ToByte(id.ToString()[..2], 16) % 5));
    }

    [Fact]
    public void Percentage_picks_that_share_at_random()
    {
        var tenth = PackSelection.Percentage(10, seed: 1).Select(Packs);
        Assert.Equal(Packs.Count / 10, tenth.Count);
        Assert.Equal(tenth.Count, tenth.Distinct().Count());
        Assert.All(tenth, id => Assert.Contains(id, Packs));
        Assert.NotEqual(tenth, PackSelection.Percentage(10, seed: 2).Select(Packs));
        Assert.Single(PackSelection.Percentage(0.001).Select(Packs));
        Assert.Equal(Packs, PackSelection.Percentage(100).Select(Packs));
    }

    [Fact]
    public async Task Deadline_stops_reading_and_says_how_many_packs_were_left()
    {
        var repo = repositories.Copy(Writer.Ours);
        var clock = new SteppingClock(DateTimeOffset.UnixEpoch, TimeSpan.FromMinutes(1));
        // Packs start at minutes 0 and 1; the third would start at minute 2, past the deadline.
        var report = await CheckAsync(repo.Repository, new CheckOptions
        {
            ReadData = PackSelection.All, Parallelism = 1, Clock = clock, ReadDeadline = DateTimeOffset.UnixEpoch.AddMinutes(1.5),
        });
        AssertHealthy(report);
        Assert.True(report.PacksSelected > 2, $"{report.PacksSelected} packs");
        Assert.Equal(2, report.PacksRead);
        Assert.Equal(report.PacksSelected - 2, report.PacksLeft);

        var late = await CheckAsync(repo.Repository, new CheckOptions { ReadData = PackSelection.All, ReadDeadline = DateTimeOffset.UtcNow.AddMinutes(-1) });
        AssertHealthy(late);
        Assert.Equal((0, late.PacksSelected), (late.PacksRead, late.PacksLeft));
    }

    private static void AssertPartition(List<IReadOnlyList<Id>> parts)
    {
        Assert.Equal(Packs.Count, parts.Sum(p => p.Count));
        Assert.Equal(Packs, parts.SelectMany(p => p).Order());
    }

    /// <summary>A clock that moves on by a fixed step each time it is read.</summary>
    private sealed class SteppingClock(DateTimeOffset start, TimeSpan step) : TimeProvider
    {
        private int _reads;
        public override DateTimeOffset GetUtcNow() => start + step * (Interlocked.Increment(ref _reads) - 1);
    }
}
