using Backups.Core.Repository;
using Repo = Backups.Core.Repository.Repository;

namespace Backups.Core.Restoring;

/// <summary>Writes a file's content (its data blobs in order) to a stream, loading a few blobs ahead.</summary>
public static class ContentReader
{
    private const int Ahead = 4;

    public static async Task<long> CopyToAsync(Repo repo, IReadOnlyList<Id> content, Stream destination, CancellationToken ct = default)
    {
        var loads = new Queue<Task<byte[]>>();
        long written = 0;
        var next = 0;
        while (next < content.Count || loads.Count > 0)
        {
            while (loads.Count < Ahead && next < content.Count)
            {
                var id = content[next++];
                loads.Enqueue(Task.Run(() => repo.LoadBlobAsync(BlobType.Data, id, ct), ct));
            }
            var blob = await loads.Dequeue();
            await destination.WriteAsync(blob, ct);
            written += blob.Length;
        }
        return written;
    }
}
