using System.Text.Json;
using Backups.Core.Repositories;
using static Backups.Core.Json.JsonScan;

namespace Backups.Core.Indexes;

/// <summary>
/// Reads an index file's entries straight from its JSON, without an object per blob: opening a repository, check
/// and prune read every index file of the repository and keep only compact entries.
/// </summary>
internal static class IndexEntries
{
    /// <param name="pack">Called for each pack; returns the number the pack's entries carry.</param>
    /// <param name="unknownType">Called with a blob type other than data and tree, whose entry is then left out
    /// (check reports it and goes on); without it, such a type is damage.</param>
    public static void Read(ReadOnlySpan<byte> json, string file, Func<Id, int> pack, Action<PackedBlob> blob, Action<string>? unknownType = null) =>
        ReadObjects(json, "packs"u8, file, (ref Utf8JsonReader reader) => ReadPack(ref reader, file, pack, blob, unknownType));

    private static void ReadPack(ref Utf8JsonReader reader, string file, Func<Id, int> pack, Action<PackedBlob> blob, Action<string>? unknownType)
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
                if (number is { } n) ReadBlobs(ref reader, file, n, blob, unknownType);
                else ReadBlobs(ref reader, file, -1, (early = []).Add, unknownType);
            }
            else reader.Skip();
        }
        if (number is not { } known) throw Damaged(file);
        foreach (var b in early ?? []) blob(b with { Pack = known });
    }

    private static void ReadBlobs(ref Utf8JsonReader reader, string file, int pack, Action<PackedBlob> blob, Action<string>? unknownType)
    {
        if (!EnterArray(ref reader, file)) return;
        while (Next(ref reader, file) == JsonTokenType.StartObject)
        {
            Id? id = null;
            BlobType? type = null;
            var unknown = false;
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
                    if (reader.ValueTextEquals("data"u8)) type = BlobType.Data;
                    else if (reader.ValueTextEquals("tree"u8)) type = BlobType.Tree;
                    else if (unknownType == null)
                        throw new RepositoryException(ErrorKind.Damaged, $"{file} is damaged: unknown blob type '{reader.GetString()}'");
                    else
                    {
                        unknownType(reader.GetString()!);
                        unknown = true;
                    }
                }
                else if (reader.ValueTextEquals("offset"u8)) offset = Number(ref reader, file);
                else if (reader.ValueTextEquals("length"u8)) length = Number(ref reader, file);
                else if (reader.ValueTextEquals("uncompressed_length"u8)) uncompressed = Number(ref reader, file);
                else reader.Skip();
            }
            if (unknown) continue;
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
