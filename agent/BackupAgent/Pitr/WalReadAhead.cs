using Backups.Core.Wal;

namespace BackupAgent.Pitr;

/// <summary>
/// The archiver's side of restore_command, reading ahead as pgBackRest's asynchronous archive-get does. Recovery
/// asks for one segment at a time, in order, and replays it before asking for the next; so while it replays a
/// segment, the next ones of the same timeline are read from the repository (and decrypted) one after another,
/// and the next request is answered from memory. What is read ahead stays within <see cref="AheadBytes"/>; it is
/// dropped once recovery asks for a later segment or another timeline, and when it stops asking for a while (a
/// recovery that reached its target).
/// </summary>
/// <param name="find">The archived file of a name, or null when the archive does not hold it.</param>
/// <param name="read">An archived file's bytes.</param>
public sealed class WalReadAhead(Func<WalFileName, ArchivedWal?> find, Func<ArchivedWal, CancellationToken, Task<byte[]>> read, CancellationToken stopping)
{
    /// <summary>How much may be read ahead: 2 segments of the default 16 MiB. Reading one takes less than replaying
    /// it, so one read ahead hides the reads; the second absorbs an uneven replay. (pgBackRest queues 128 MiB on
    /// disk; held in memory here, 64 MiB added 75 MiB to the peak RSS of `pitr --start` in the pitr bench.)</summary>
    public const long AheadBytes = 32L << 20;
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(30);

    private readonly Lock _gate = new();
    // A read that failed leaves null: the request reads again itself, and reports its own failure.
    private readonly Dictionary<string, Task<byte[]?>> _ahead = new(StringComparer.Ordinal);
    // Reads ahead run one after another, behind the read of the file last asked for: the next one needed comes first.
    private Task _tail = Task.CompletedTask;
    private long _asked;

    /// <summary>The bytes of <paramref name="name"/>, or null when the archive does not hold it.</summary>
    public async Task<byte[]?> FetchAsync(WalFileName name, CancellationToken ct)
    {
        var archived = find(name);
        if (archived == null) return null;
        Task<byte[]?>? ahead;
        long asked;
        lock (_gate)
        {
            asked = ++_asked;
            _ahead.Remove(name.Name, out ahead);
            foreach (var behind in _ahead.Keys.Where(k => !After(name, k)).ToList()) _ahead.Remove(behind);
        }
        var content = ahead == null ? null : await ahead.WaitAsync(ct);
        var reading = content == null ? read(archived, ct) : Task.FromResult(content);
        lock (_gate)
        {
            if (content == null) _tail = reading;
            if (name.IsSegment) ReadAheadOf(name, archived.Node.Size);
        }
        _ = ForgetWhenIdleAsync(asked);
        return await reading;
    }

    /// <summary>Whether <paramref name="other"/> is a later segment on the timeline of <paramref name="name"/>.</summary>
    private static bool After(WalFileName name, string other) =>
        WalFileName.TryParse(other, out var o) && o.IsSegment && o.Timeline == name.Timeline && string.CompareOrdinal(o.Name, name.Name) > 0;

    /// <summary>Queues the segments after <paramref name="name"/> that the archive holds, up to the budget; the caller holds the gate.</summary>
    private void ReadAheadOf(WalFileName name, ulong segmentSize)
    {
        var count = segmentSize is 0 or > (ulong)AheadBytes ? 0UL : (ulong)AheadBytes / segmentSize;
        var number = name.Number((long)segmentSize);
        for (var i = 1UL; i <= count; i++)
        {
            var next = WalFileName.SegmentOf(name.Timeline, new Lsn((number + i) * segmentSize), (long)segmentSize);
            if (_ahead.ContainsKey(next.Name)) continue;
            if (find(next) is not { } file) break;
            var task = ReadAfterAsync(_tail, file);
            _ahead[next.Name] = task;
            _tail = task;
        }
    }

    private async Task<byte[]?> ReadAfterAsync(Task previous, ArchivedWal file)
    {
        // Never inline: the caller records this read under the gate after it returns. An earlier read's failure is
        // its own request's to report.
        await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ForceYielding);
        lock (_gate)
            if (!_ahead.ContainsKey(file.Name.Name)) return null; // recovery moved past it meanwhile
        try
        {
            return await read(file, stopping);
        }
        catch (Exception)
        {
            return null;
        }
    }

    /// <summary>Drops what was read ahead once recovery has not asked for anything for <see cref="Idle"/>.</summary>
    private async Task ForgetWhenIdleAsync(long asked)
    {
        try
        {
            await Task.Delay(Idle, stopping);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        lock (_gate)
            if (_asked == asked) _ahead.Clear();
    }
}
