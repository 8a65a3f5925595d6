using System.Text.Json;

namespace Backups.Core.Indexes;

/// <summary>
/// Writes restic's index JSON straight from compact entries, through a Utf8JsonWriter that the repository compresses
/// as it writes (<see cref="Compression.ZstdWriter"/>): no object per blob and no file-sized arrays left for the GC. A pack of tiny blobs lists 150,000 of them, and as
/// objects, then as one serialized array, its index file was the peak of a backup's memory.
/// </summary>
internal static class IndexJson
{
    public static void StartFile(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteStartArray("packs"u8);
    }

    public static void EndFile(Utf8JsonWriter json)
    {
        json.WriteEndArray();
        json.WriteEndObject();
    }

    public static void StartPack(Utf8JsonWriter json, Id pack)
    {
        Span<byte> hex = stackalloc byte[2 * Id.Size];
        json.WriteStartObject();
        json.WriteString("id"u8, Hex(pack, hex));
        json.WriteStartArray("blobs"u8);
    }

    public static void EndPack(Utf8JsonWriter json)
    {
        json.WriteEndArray();
        json.WriteEndObject();
    }

    public static void Blob(Utf8JsonWriter json, Id id, BlobType type, uint offset, uint length, uint uncompressedLength)
    {
        Span<byte> hex = stackalloc byte[2 * Id.Size];
        json.WriteStartObject();
        json.WriteString("id"u8, Hex(id, hex));
        json.WriteString("type"u8, type == BlobType.Data ? "data"u8 : "tree"u8);
        json.WriteNumber("offset"u8, offset);
        json.WriteNumber("length"u8, length);
        if (uncompressedLength != 0) json.WriteNumber("uncompressed_length"u8, uncompressedLength);
        json.WriteEndObject();
    }

    private static ReadOnlySpan<byte> Hex(Id id, Span<byte> hex)
    {
        Span<byte> raw = stackalloc byte[Id.Size];
        id.WriteTo(raw);
        Convert.TryToHexStringLower(raw, hex, out _);
        return hex;
    }
}
