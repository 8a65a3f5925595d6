using System.Buffers;
using System.Text.Json;
using Backups.Core.Backends;
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
        for (var pack = NextKept(plan, 0); pack < plan.Contents.IndexedPacks; pack = NextKept(plan, pack))
        {
            var from = pack;
            names.Add((await repo.SaveUnpackedAsync(FileKind.Index, output => pack = Describe(plan, from, output), ct)).ToString());
        }
        return names;
    }

    private static int NextKept(PrunePlan plan, int pack)
    {
        while (pack < plan.Contents.IndexedPacks && plan.Actions[pack] != PackAction.Keep) pack++;
        return pack;
    }

    /// <summary>Writes the next index file's JSON from pack number <paramref name="pack"/> on, until it holds enough
    /// blobs; returns the number of the first pack left for the next file.</summary>
    private static int Describe(PrunePlan plan, int pack, IBufferWriter<byte> output)
    {
        var contents = plan.Contents;
        using var json = new Utf8JsonWriter(output);
        IndexJson.StartFile(json);
        for (var blobs = 0; pack < contents.IndexedPacks && blobs < IndexFileBlobs; pack++)
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
        return pack;
    }
}
