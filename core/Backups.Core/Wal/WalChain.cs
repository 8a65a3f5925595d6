using Backups.Core.Snapshots;

namespace Backups.Core.Wal;

/// <summary>
/// Whether a source's archive can carry every kept base backup forward to the newest archived segment: the
/// chain a replay walks. On the oldest base backup's timeline it runs from that backup's start segment; on a
/// later timeline (after a promotion) from the segment where it branched off, as its history file says (the
/// first segment a replay reads on it: a hole right after the promotion is one), or from its first archived
/// segment when its history file is not archived; on each, through the newest segment archived and every base
/// backup's stop segment (a base backup taken without WAL needs its own).
/// Check and the Verify step call a hole damage, naming its first missing segment.
/// </summary>
public static class WalChain
{
    /// <summary>The first hole in the chain of <paramref name="source"/>, described in one line; null when it is whole
    /// or the source has no base backup.</summary>
    /// <param name="read">An archived file's bytes (a history file's).</param>
    public static async Task<string?> FirstGapAsync(Func<ArchivedWal, CancellationToken, Task<byte[]>> read, string source, IEnumerable<Snapshot> snapshots,
        WalArchive archive, CancellationToken ct)
    {
        var bases = snapshots.Where(s => SnapshotSource.Of(s) == source)
            .Select(s => (Snapshot: s, Facts: BaseBackupFacts.Of(s)!)).Where(b => b.Facts != null)
            .OrderBy(b => b.Facts.Start).ThenBy(b => b.Snapshot.Time).ToList();
        if (bases.Count == 0) return null;
        var oldest = bases[0];
        if (archive.SegmentSize is not { } size)
            return $"WAL of {source}: no segment is archived, so base backup {oldest.Snapshot.Id.Short} (WAL from {oldest.Facts.Start}) cannot be restored";

        var start = WalFileName.SegmentOf(oldest.Facts.Timeline, oldest.Facts.Start, size);
        var segments = archive.Files.Values.Select(f => f.Name)
            .Where(n => n.IsSegment && n.Timeline >= start.Timeline && n.Number(size) >= start.Number(size)).ToList();
        foreach (var timeline in segments.Select(n => n.Timeline).Concat(bases.Select(b => b.Facts.Timeline)).Distinct().Order())
        {
            var starts = bases.Where(b => b.Facts.Timeline == timeline).Select(b => WalFileName.SegmentOf(timeline, b.Facts.Start, size));
            var stops = bases.Where(b => b.Facts.Timeline == timeline).Select(b => WalFileName.SegmentOf(timeline, b.Facts.Stop, size));
            var archived = segments.Where(n => n.Timeline == timeline).ToList();
            var branch = timeline != start.Timeline && archive.Files.TryGetValue(TimelinePath.HistoryFile(timeline), out var history)
                ? TimelinePath.Branch(history, await read(history, ct)) : null;
            // WAL before the oldest base backup's start is needed by no replay, whichever timeline holds it.
            var from = branch is { } at ? WalFileName.SegmentOf(timeline, at > oldest.Facts.Start ? at : oldest.Facts.Start, size)
                : (timeline == start.Timeline ? [start] : starts.Concat(archived)).MinBy(n => n.Number(size));
            var through = stops.Concat(archived).MaxBy(n => n.Number(size));
            if (archive.FirstMissing(TimelinePath.Single(timeline, size), from.Number(size), through.Number(size)) is { } missing)
                return $"WAL of {source}: segment {missing} is missing from the chain {from}..{through} that base backup " +
                       $"{oldest.Snapshot.Id.Short} (WAL from {oldest.Facts.Start}) needs to reach the newest archived segment";
        }
        return null;
    }
}
