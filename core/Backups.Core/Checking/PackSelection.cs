using System.Buffers.Binary;
using System.Globalization;

namespace Backups.Core.Checking;

/// <summary>
/// Which packs a check reads in full. Slices split the id space into equal ranges, so they partition the packs
/// whatever is written meanwhile: a Step Functions Map state reads slice n of t in each branch, and a nightly
/// Verify step reads the slice of the day so that every pack is read once per cycle.
/// </summary>
public abstract class PackSelection
{
    public static readonly PackSelection None = new NoPacks();
    public static readonly PackSelection All = new AllPacks();

    /// <summary>restic's <c>--read-data-subset N%</c>: that share of the packs, at random (at least one).</summary>
    public static PackSelection Percentage(double percent, int? seed = null) =>
        percent is > 0 and <= 100 ? new RandomPacks(percent, seed) : throw new ArgumentOutOfRangeException(nameof(percent), "a percentage above 0 and at most 100");

    /// <summary>restic's <c>--read-data-subset n/t</c>: packs whose first id byte modulo t is n - 1.</summary>
    public static PackSelection Bucket(int n, int total) => new BucketPacks(CheckPart(n, total, 256), total);

    /// <summary>The n-th (1-based) of <paramref name="total"/> equal ranges of pack ids.</summary>
    public static PackSelection Slice(int n, int total) => new SlicePacks(CheckPart(n, total, int.MaxValue), total, null);

    /// <summary>The slice of <paramref name="day"/> in a cycle of <paramref name="cycleDays"/> days: every pack is
    /// read once in any <paramref name="cycleDays"/> consecutive days.</summary>
    public static PackSelection Rotation(DateOnly day, int cycleDays)
    {
        CheckPart(1, cycleDays, int.MaxValue);
        var n = day.DayNumber % cycleDays + 1;
        return new SlicePacks(n, cycleDays, $"day {day:yyyy-MM-dd} of a {cycleDays}-day cycle");
    }

    private static int CheckPart(int n, int total, int maxTotal)
    {
        if (total < 1 || total > maxTotal) throw new ArgumentOutOfRangeException(nameof(total), $"the number of parts must be 1 to {maxTotal}");
        if (n < 1 || n > total) throw new ArgumentOutOfRangeException(nameof(n), $"the part must be 1 to {total}");
        return n;
    }

    /// <summary>The selected packs among <paramref name="packs"/> (sorted by id), in that order.</summary>
    public abstract IReadOnlyList<Id> Select(IReadOnlyList<Id> packs);

    /// <summary>
    /// This selection as <paramref name="parts"/> slices of the id space (each named by its number and the count of
    /// equal ranges it is one of, as <see cref="Slice"/> takes them) that together select exactly its packs: the
    /// Verify workflow reads one per branch of a Map state. All packs and slices split so; other selections do not.
    /// </summary>
    public virtual IReadOnlyList<(int Slice, int Slices)> Split(int parts) =>
        throw new NotSupportedException($"{Description} cannot be split into slices");

    /// <summary>For people: "all packs", "slice 2 of 7", ...</summary>
    public abstract string Description { get; }

    public override string ToString() => Description;

    /// <summary>The first 64 bits of an id, as a big-endian number: where it lies in the id space.</summary>
    private static ulong Prefix(Id id)
    {
        Span<byte> bytes = stackalloc byte[Id.Size];
        id.WriteTo(bytes);
        return BinaryPrimitives.ReadUInt64BigEndian(bytes);
    }

    private sealed class NoPacks : PackSelection
    {
        public override IReadOnlyList<Id> Select(IReadOnlyList<Id> packs) => [];
        public override string Description => "no packs";
    }

    private sealed class AllPacks : PackSelection
    {
        public override IReadOnlyList<Id> Select(IReadOnlyList<Id> packs) => packs;
        public override string Description => "all packs";

        public override IReadOnlyList<(int Slice, int Slices)> Split(int parts)
        {
            CheckPart(1, parts, int.MaxValue);
            return [.. Enumerable.Range(1, parts).Select(i => (i, parts))];
        }
    }

    private sealed class RandomPacks(double percent, int? seed) : PackSelection
    {
        public override IReadOnlyList<Id> Select(IReadOnlyList<Id> packs)
        {
            if (packs.Count == 0) return [];
            var count = Math.Max(1, (int)Math.Round(packs.Count * percent / 100));
            var random = seed is { } s ? new Random(s) : Random.Shared;
            var chosen = packs.ToArray();
            random.Shuffle(chosen);
            return chosen.Take(count).Order().ToList();
        }

        public override string Description => $"{percent.ToString(CultureInfo.InvariantCulture)}% of the packs at random";
    }

    private sealed class BucketPacks(int n, int total) : PackSelection
    {
        public override IReadOnlyList<Id> Select(IReadOnlyList<Id> packs) =>
            packs.Where(p => (int)(Prefix(p) >> 56) % total == n - 1).ToList();

        public override string Description => $"subset {n}/{total}";
    }

    private sealed class SlicePacks(int n, int total, string? why) : PackSelection
    {
        private static ulong Bound(int k, int total) => k == total ? ulong.MaxValue : (ulong)(((UInt128)k << 64) / (uint)total);

        public override IReadOnlyList<Id> Select(IReadOnlyList<Id> packs)
        {
            ulong from = Bound(n - 1, total), to = Bound(n, total);
            // The last slice ends at the top of the id space inclusively; every other one excludes its upper bound.
            return packs.Where(p => Prefix(p) >= from && (Prefix(p) < to || n == total)).ToList();
        }

        public override string Description => why == null ? $"slice {n} of {total}" : $"slice {n} of {total} ({why})";

        // Slice n of t is slices (n-1)p+1 .. np of tp: the bounds k/t and kp/tp are the same point of the id space.
        public override IReadOnlyList<(int Slice, int Slices)> Split(int parts)
        {
            CheckPart(1, parts, int.MaxValue / total);
            return [.. Enumerable.Range(1, parts).Select(i => ((n - 1) * parts + i, total * parts))];
        }
    }
}
