using System.Text.Json;
using Backups.Core.Backends;
using Backups.Core.Buffers;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Pruning;

/// <summary>
/// Index files for every kept pack, with its entries as they were, written as restic's index JSON straight from
/// the compact entries into one pooled buffer: no object per blob, no file-sized arrays left for the GC.
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
        json.WriteStartObject();
        json.WriteStartArray("packs"u8);
        Span<byte> hex = stackalloc byte[2 * Id.Size];
        var blobs = 0;
        for (; pack < contents.IndexedPacks && blobs < IndexFileBlobs; pack++)
        {
            if (plan.Actions[pack] != PackAction.Keep) continue;
            json.WriteStartObject();
            json.WriteString("id"u8, Hex(contents.Packs[pack], hex));
            json.WriteStartArray("blobs"u8);
            foreach (var b in contents.BlobsOf(pack))
            {
                json.WriteStartObject();
                json.WriteString("id"u8, Hex(b.Id, hex));
                json.WriteString("type"u8, b.Type == BlobType.Data ? "data"u8 : "tree"u8);
                json.WriteNumber("offset"u8, b.Offset);
                json.WriteNumber("length"u8, b.Length);
                if (b.IsCompressed) json.WriteNumber("uncompressed_length"u8, b.UncompressedLength);
                json.WriteEndObject();
                blobs++;
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
        return blobs > 0;
    }

    private static ReadOnlySpan<byte> Hex(Id id, Span<byte> hex)
    {
        Span<byte> raw = stackalloc byte[Id.Size];
        id.WriteTo(raw);
        Convert.TryToHexStringLower(raw, hex, out _);
        return hex;
    }
}
