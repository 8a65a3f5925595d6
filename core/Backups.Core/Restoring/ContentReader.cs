using Backups.Core.Backends;
using Backups.Core.Buffers;
using Backups.Core.Packs;
using Backups.Core.Repositories;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Restoring;

/// <summary>
/// Writes a file's content (its data blobs in order) to a stream. Consecutive blobs that lie one after another in
/// a pack are fetched as one run with one ranged read (<see cref="PackStream"/>), decrypted in place and
/// decompressed straight into one pooled buffer per run, which is written with one call. The next few runs are
/// fetched and opened on other threads while the current one is written: a big file is read from its packs in
/// order, ahead of the writer, with a few runs' buffers in memory whatever its size.
/// </summary>
public static class ContentReader
{
    private const int Ahead = 3;
    private const long Window = 8 << 20;

    public static async Task<long> CopyToAsync(Repo repo, IReadOnlyList<Id> content, Stream destination, CancellationToken ct = default)
    {
        var locations = ContentRound.Locate(repo, content, "the file").Locations;
        // Runs still loading when the copy fails stop there; their buffers are left to the collector.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var loads = new Queue<Task<(byte[] Buffer, int Length)>>();
        long written = 0;
        var next = 0;
        try
        {
            while (next < content.Count || loads.Count > 0)
            {
                while (loads.Count < Ahead && next < content.Count)
                {
                    var (first, count) = (next, RunLength(locations, next));
                    next += count;
                    loads.Enqueue(Task.Run(() => LoadRunAsync(repo, content, locations, first, count, stop.Token), stop.Token));
                }
                var (buffer, length) = await loads.Dequeue();
                await destination.WriteAsync(buffer.AsMemory(0, length), ct);
                BufferPool.Large.Return(buffer);
                written += length;
            }
            return written;
        }
        finally
        {
            await stop.CancelAsync();
        }
    }

    /// <summary>How many blobs from <paramref name="first"/> on follow each other in one pack, close enough to be
    /// read together within a window, and whose plaintexts together fit one too (the first always counts).</summary>
    private static int RunLength(BlobLocation[] locations, int first)
    {
        var start = locations[first];
        var end = (long)start.Offset + start.Length;
        long plain = start.PlaintextLength;
        var n = 1;
        for (; first + n < locations.Length; n++)
        {
            var b = locations[first + n];
            if (b.Pack != start.Pack || b.Offset < end || !PackStream.Joins(start.Offset, end, new PackSpan(b.Offset, b.Length), Window)
                || plain + b.PlaintextLength > Window) break;
            end = (long)b.Offset + b.Length;
            plain += b.PlaintextLength;
        }
        return n;
    }

    /// <summary>Reads a run and opens its blobs into one pooled buffer, in order; the caller returns it.</summary>
    private static async Task<(byte[] Buffer, int Length)> LoadRunAsync(Repo repo, IReadOnlyList<Id> content, BlobLocation[] locations, int first,
        int count, CancellationToken ct)
    {
        var spans = new PackSpan[count];
        var offsets = new int[count];
        var length = 0;
        for (var i = 0; i < count; i++)
        {
            var location = locations[first + i];
            spans[i] = new PackSpan(location.Offset, location.Length);
            offsets[i] = length;
            length = checked(length + location.PlaintextLength);
        }
        var buffer = BufferPool.Large.Rent(length);
        var pack = new FileHandle(FileKind.Pack, locations[first].Pack.ToString());
        await PackStream.ReadAsync(repo.Backend, pack, spans, Window, async (i, stored) =>
        {
            var location = locations[first + i];
            var slot = buffer.AsMemory(offsets[i], location.PlaintextLength);
            var plain = await repo.OpenPackedBlobAsync(stored, content[first + i], location, slot, ct);
            // A compressed blob was decompressed into its place already; an uncompressed one lies in the read.
            if (!plain.Span.Overlaps(slot.Span)) plain.Span.CopyTo(slot.Span);
        }, ct);
        return (buffer, length);
    }
}
