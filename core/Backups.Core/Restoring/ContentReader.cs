using Backups.Core.Backends;
using Backups.Core.Packs;
using Backups.Core.Repositories;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Restoring;

/// <summary>
/// Writes a file's content (its data blobs in order) to a stream. Consecutive blobs that lie one after another in
/// a pack are fetched as one run with one ranged read (<see cref="PackStream"/>), and the next few runs are
/// fetched while the current one is written: a big file is read from its packs in order, ahead of the writer.
/// </summary>
public static class ContentReader
{
    private const int Ahead = 3;
    private const long Window = 8 << 20;

    public static async Task<long> CopyToAsync(Repo repo, IReadOnlyList<Id> content, Stream destination, CancellationToken ct = default)
    {
        var locations = ContentRound.Locate(repo, content, "the file").Locations;
        var loads = new Queue<Task<byte[][]>>();
        long written = 0;
        var next = 0;
        while (next < content.Count || loads.Count > 0)
        {
            while (loads.Count < Ahead && next < content.Count)
            {
                var (first, count) = (next, RunLength(locations, next));
                next += count;
                loads.Enqueue(Task.Run(() => LoadRunAsync(repo, content, locations, first, count, ct), ct));
            }
            foreach (var blob in await loads.Dequeue())
            {
                await destination.WriteAsync(blob, ct);
                written += blob.Length;
            }
        }
        return written;
    }

    /// <summary>How many blobs from <paramref name="first"/> on follow each other in one pack, close enough to be
    /// read together within a window.</summary>
    private static int RunLength(BlobLocation[] locations, int first)
    {
        var start = locations[first];
        var end = (long)start.Offset + start.Length;
        var n = 1;
        for (; first + n < locations.Length; n++)
        {
            var b = locations[first + n];
            if (b.Pack != start.Pack || b.Offset < end || !PackStream.Joins(start.Offset, end, new PackSpan(b.Offset, b.Length), Window)) break;
            end = (long)b.Offset + b.Length;
        }
        return n;
    }

    private static async Task<byte[][]> LoadRunAsync(Repo repo, IReadOnlyList<Id> content, BlobLocation[] locations, int first, int count,
        CancellationToken ct)
    {
        var blobs = new byte[count][];
        var spans = new PackSpan[count];
        for (var i = 0; i < count; i++) spans[i] = new PackSpan(locations[first + i].Offset, locations[first + i].Length);
        var pack = new FileHandle(FileKind.Pack, locations[first].Pack.ToString());
        await PackStream.ReadAsync(repo.Backend, pack, spans, Window,
            async (i, stored) => blobs[i] = (await repo.OpenPackedBlobAsync(stored, content[first + i], locations[first + i], ct)).Plaintext, ct);
        return blobs;
    }
}
