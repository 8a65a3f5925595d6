using System.Text.Json;
using Backups.Core.Backends;
using Backups.Core.Buffers;
using Backups.Core.Indexes;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Pruning;

/// <summary>
/// Index files for every kept pack, with its entries as they were, written as restic's index JSON straight from
/// the compact entries (<see cref="IndexJson"/>).
/// </summary>
internal static class KeptIndex
{
    // restic starts a new index file every ~50,000 blobs.
    private const int IndexFileBlobs = 50_000;

    /// <summary>Stores the index files; returns their names.</summary>
    public static async Task<HashSet<string>> WriteAsync(Repo repo, PrunePlan plan, CancellationToken ct)
    {
        var names = new HashSet<string>();
        using var buffer = new PooledBufferWriter();
        var pack = 0;
        while (true)
        {
            buffer.Clear();
            if (!Describe(plan, ref pack, buffer)) break;
            names.Add((await repo.SaveUnpackedAsync(FileKind.Index, buffer.WrittenMemory, ct)).ToString());
        }
        return names;
    }

    /// <summary>Writes the next index file's JSON from pack number <paramref name="pack"/> on, until it holds
    /// enough blobs; returns false when no kept pack was left.</summary>
    private static bool Describe(PrunePlan plan, ref int pack, PooledBufferWriter buffer)
    {
        var contents = plan.Contents;
        using var json = new Utf8JsonWriter(buffer);
        IndexJson.StartFile(json);
        var blobs = 0;
        for (; pack < contents.IndexedPacks && blobs < IndexFileBlobs; pack++)
        {
            if (plan.Actions[pack] != PackAction.Keep) continue;
            IndexJson.StartPack(json, contents.Packs[pack]);
            foreach (var b in contents.BlobsOf(pack))
            {
                IndexJson.Blob(json, b.Id, b.Type, b.Offset, b.Length, b.UncompressedLength);
                blobs++;
            }
            IndexJson.EndPack(json);
        }
        IndexJson.EndFile(json);
        return blobs > 0;
    }
}
