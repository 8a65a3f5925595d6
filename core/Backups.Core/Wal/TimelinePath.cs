using System.Text;
using Backups.Core.Repositories;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Wal;

/// <summary>
/// The segments a replay from a base backup reads when it follows the newest timeline that descends from the
/// backup's own (PostgreSQL's recovery_target_timeline = 'latest'). A promotion writes TTTTTTTT.history: each
/// line an ancestor timeline and the WAL position where its successor branched off. From that position on the
/// successor's files are read; the segment holding it is the successor's (which begins with the ancestor's
/// WAL), not the ancestor's .partial.
/// </summary>
public sealed class TimelinePath
{
    /// <summary>Each timeline of the path with the first segment number read from the next one (null for the last).</summary>
    private readonly List<(uint Timeline, ulong? Until)> _steps;
    private readonly long _segmentSize;

    private TimelinePath(List<(uint, ulong?)> steps, long segmentSize) => (_steps, _segmentSize) = (steps, segmentSize);

    public uint Last => _steps[^1].Timeline;

    /// <summary>The path from <paramref name="timeline"/>: through the newest history file that descends from it,
    /// or that timeline alone when none does.</summary>
    public static async Task<TimelinePath> LoadAsync(Repo repo, WalArchive archive, uint timeline, long segmentSize, CancellationToken ct)
    {
        foreach (var history in archive.Files.Values.Where(f => f.Name.Name.EndsWith(".history", StringComparison.Ordinal) && f.Name.Timeline > timeline)
                     .OrderByDescending(f => f.Name.Timeline))
        {
            var branches = Parse(history, Encoding.UTF8.GetString(await WalArchive.ReadAsync(repo, history, ct)));
            var from = branches.FindIndex(b => b.Timeline == timeline);
            if (from < 0) continue;
            return new TimelinePath([.. branches.Skip(from).Select(b => (b.Timeline, (ulong?)(b.End.Value / (ulong)segmentSize))), (history.Name.Timeline, null)],
                segmentSize);
        }
        return Single(timeline, segmentSize);
    }

    /// <summary>The name of the history file a promotion to <paramref name="timeline"/> writes.</summary>
    public static string HistoryFile(uint timeline) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{timeline:X8}.history");

    /// <summary>Where the timeline of <paramref name="history"/> branched off its parent, as its <paramref name="content"/> says.</summary>
    public static Lsn? Branch(ArchivedWal history, byte[] content) =>
        Parse(history, Encoding.UTF8.GetString(content)) is { Count: > 0 } branches ? branches[^1].End : null;

    /// <summary>One timeline's own segments.</summary>
    public static TimelinePath Single(uint timeline, long segmentSize) => new([(timeline, null)], segmentSize);

    /// <summary>Lines "parent-timeline switch-position reason"; comments and blank lines are skipped.</summary>
    private static List<(uint Timeline, Lsn End)> Parse(ArchivedWal file, string text)
    {
        var branches = new List<(uint, Lsn)>();
        foreach (var line in text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            var fields = line.Split((char[]?)null, 3, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2 || !uint.TryParse(fields[0], System.Globalization.CultureInfo.InvariantCulture, out var parent) || !Lsn.TryParse(fields[1], out var end))
                throw new RepositoryException(ErrorKind.Damaged, $"{file.Name} ({file.Snapshot.Id.Short}) has a line that is no timeline switch: '{line}'");
            branches.Add((parent, end));
        }
        return branches;
    }

    /// <summary>The file a replay reads for segment number <paramref name="number"/>.</summary>
    public WalFileName Segment(ulong number) =>
        WalFileName.SegmentOf(_steps.First(s => s.Until == null || number < s.Until).Timeline, new Lsn(number * (ulong)_segmentSize), _segmentSize);

    /// <summary>Whether a replay along this path reads <paramref name="name"/>.</summary>
    public bool Reads(WalFileName name) => name.IsSegment && Segment(name.Number(_segmentSize)).Name == name.Name;
}
