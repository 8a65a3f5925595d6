using System.Globalization;
using Backups.Core.Repositories;

namespace Backups.Core.Wal;

/// <summary>
/// The names PostgreSQL gives the files it archives: WAL segments (24 hex digits: timeline, log, segment),
/// timeline history files (TTTTTTTT.history), backup history files (...SEGMENT.XXXXXXXX.backup) and the partial
/// segment a promoted standby leaves (SEGMENT.partial). Anything else is refused: a name reaches the archiver
/// from another user's process and becomes a file name in the repository.
/// </summary>
public readonly record struct WalFileName
{
    public string Name { get; }
    /// <summary>The segment's timeline, log and number within the log; for a history file, only the timeline.</summary>
    public uint Timeline { get; }
    public uint Log { get; }
    public uint Segment { get; }
    public bool IsSegment => Name.Length == 24;

    private WalFileName(string name, uint timeline, uint log, uint segment) => (Name, Timeline, Log, Segment) = (name, timeline, log, segment);

    public static bool TryParse(string name, out WalFileName result)
    {
        result = default;
        if (name.Length == 16 && name.EndsWith(".history", StringComparison.Ordinal) && Hex(name[..8], out var tli))
        {
            result = new(name, tli, 0, 0);
            return true;
        }
        if (name.Length < 24 || !Hex(name[..8], out var timeline) || !Hex(name[8..16], out var log) || !Hex(name[16..24], out var seg)) return false;
        var rest = name[24..];
        var ok = rest.Length == 0 || rest == ".partial" || (rest.Length == 16 && rest[0] == '.' && Hex(rest[1..9], out _) && rest.EndsWith(".backup", StringComparison.Ordinal));
        if (ok) result = new(name, timeline, log, seg);
        return ok;
    }

    public static WalFileName Parse(string name) => TryParse(name, out var result) ? result
        : throw new RepositoryException(ErrorKind.InvalidArgument, $"'{name}' is not the name of a file PostgreSQL archives");

    /// <summary>The segment holding <paramref name="lsn"/> on <paramref name="timeline"/>.</summary>
    public static WalFileName SegmentOf(uint timeline, Lsn lsn, long segmentSize)
    {
        var number = lsn.Value / (ulong)segmentSize;
        var perLog = SegmentsPerLog(segmentSize);
        return Parse(Format(timeline, (uint)(number / perLog), (uint)(number % perLog)));
    }

    /// <summary>The position of a segment along its timeline, for ordering and counting.</summary>
    public ulong Number(long segmentSize) => Log * SegmentsPerLog(segmentSize) + Segment;

    private static ulong SegmentsPerLog(long segmentSize) => 0x1_0000_0000UL / (ulong)segmentSize;

    private static string Format(uint timeline, uint log, uint segment) =>
        string.Create(CultureInfo.InvariantCulture, $"{timeline:X8}{log:X8}{segment:X8}");

    private static bool Hex(string s, out uint value) =>
        uint.TryParse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value) && s.All(c => char.IsAsciiHexDigitUpper(c) || char.IsAsciiDigit(c));

    public override string ToString() => Name;
}

/// <summary>A WAL position as PostgreSQL prints it: two hex numbers, "16/B374D848".</summary>
public readonly record struct Lsn(ulong Value) : IComparable<Lsn>
{
    public static bool TryParse(string text, out Lsn lsn)
    {
        lsn = default;
        var slash = text.IndexOf('/');
        if (slash <= 0 || slash > 8 || text.Length - slash - 1 is < 1 or > 8) return false;
        if (!uint.TryParse(text.AsSpan(0, slash), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var high)
            || !uint.TryParse(text.AsSpan(slash + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var low)) return false;
        lsn = new Lsn(((ulong)high << 32) | low);
        return true;
    }

    public static Lsn Parse(string text) => TryParse(text, out var lsn) ? lsn
        : throw new RepositoryException(ErrorKind.InvalidArgument, $"'{text}' is not a WAL position (like 16/B374D848)");

    public int CompareTo(Lsn other) => Value.CompareTo(other.Value);
    public static bool operator <(Lsn a, Lsn b) => a.Value < b.Value;
    public static bool operator >(Lsn a, Lsn b) => a.Value > b.Value;
    public static bool operator <=(Lsn a, Lsn b) => a.Value <= b.Value;
    public static bool operator >=(Lsn a, Lsn b) => a.Value >= b.Value;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Value >> 32:X}/{Value & 0xFFFF_FFFF:X}");
}
