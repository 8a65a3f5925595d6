using System.Text.Json;
using Backups.Core.Repositories;
using static Backups.Core.Json.JsonScan;

namespace Backups.Core.Pruning;

/// <summary>
/// Reads an index file's entries straight from its JSON, without an object per blob: prune reads every index
/// file of the repository and keeps only compact entries.
/// </summary>
internal static class IndexEntries
{
    /// <param name="pack">Called for each pack; returns the number the pack's entries carry.</param>
    public static void Read(ReadOnlySpan<byte> json, string file, Func<Id, int> pack, Action<PackedBlob> blob) =>
        ReadObjects(json, "packs"u8, file, (ref Utf8JsonReader reader) => ReadPack(ref reader, file, pack, blob));

    private static void ReadPack(ref Utf8JsonReader reader, string file, Func<Id, int> pack, Action<PackedBlob> blob)
    {
        int? number = null;
        // restic writes "id" before "blobs"; entries that come first wait for their pack's number.
        List<PackedBlob>? early = null;
        while (Next(ref reader, file) == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("id"u8))
            {
                Expect(ref reader, JsonTokenType.String, file);
                number = pack(ReadId(ref reader, file));
            }
            else if (reader.ValueTextEquals("blobs"u8))
            {
                if (number is { } n) ReadBlobs(ref reader, file, n, blob);
                else ReadBlobs(ref reader, file, -1, (early = []).Add);
            }
            else reader.Skip();
        }
        if (number is not { } known) throw Damaged(file);
        foreach (var b in early ?? []) blob(b with { Pack = known });
    }

    private static void ReadBlobs(ref Utf8JsonReader reader, string file, int pack, Action<PackedBlob> blob)
    {
        if (!EnterArray(ref reader, file)) return;
        while (Next(ref reader, file) == JsonTokenType.StartObject)
        {
            Id? id = null;
            BlobType? type = null;
            uint offset = 0, length = 0, uncompressed = 0;
            while (Next(ref reader, file) == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("id"u8))
                {
                    Expect(ref reader, JsonTokenType.String, file);
                    id = ReadId(ref reader, file);
                }
                else if (reader.ValueTextEquals("type"u8))
                {
                    Expect(ref reader, JsonTokenType.String, file);
                    type = reader.ValueTextEquals("data"u8) ? BlobType.Data : reader.ValueTextEquals("tree"u8) ? BlobType.Tree
                        : throw new RepositoryException(ErrorKind.Damaged, $"{file} is damaged: unknown blob type '{reader.GetString()}'");
                }
                else if (reader.ValueTextEquals("offset"u8)) offset = Number(ref reader, file);
                else if (reader.ValueTextEquals("length"u8)) length = Number(ref reader, file);
                else if (reader.ValueTextEquals("uncompressed_length"u8)) uncompressed = Number(ref reader, file);
                else reader.Skip();
            }
            if (id is not { } i || type is not { } t) throw Damaged(file);
            blob(new PackedBlob(i, t, pack, offset, length, uncompressed));
        }
    }

    private static uint Number(ref Utf8JsonReader reader, string file)
    {
        var token = Next(ref reader, file);
        if (token == JsonTokenType.Null) return 0;
        return token == JsonTokenType.Number && reader.TryGetUInt32(out var n) ? n : throw Damaged(file);
    }
}
