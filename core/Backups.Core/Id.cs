using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Backups.Core;

/// <summary>A SHA-256 id: of a blob's plaintext, or of a stored file's bytes.</summary>
[JsonConverter(typeof(IdJsonConverter))]
public readonly struct Id : IEquatable<Id>, IComparable<Id>
{
    public const int Size = 32;
    private readonly ulong _a, _b, _c, _d;

    public Id(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size) throw new ArgumentException("an id has 32 bytes");
        _a = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        _b = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        _c = BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]);
        _d = BinaryPrimitives.ReadUInt64BigEndian(bytes[24..]);
    }

    public static Id Hash(ReadOnlySpan<byte> data)
    {
        Span<byte> h = stackalloc byte[Size];
        SHA256.HashData(data, h);
        return new Id(h);
    }

    public static Id Random() => new(RandomNumberGenerator.GetBytes(Size));

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], _c);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], _d);
    }

    public static bool TryParse(ReadOnlySpan<char> hex, out Id id)
    {
        id = default;
        if (hex.Length != 2 * Size) return false;
        Span<byte> bytes = stackalloc byte[Size];
        if (Convert.FromHexString(hex, bytes, out _, out var written) != OperationStatus.Done || written != Size) return false;
        id = new Id(bytes);
        return true;
    }

    public static Id Parse(ReadOnlySpan<char> hex) =>
        TryParse(hex, out var id) ? id : throw new FormatException($"'{hex}' is not a 64-digit hex id");

    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Size];
        WriteTo(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    /// <summary>The first 8 hex digits, as restic shows ids.</summary>
    public string Short => _a.ToString("x16")[..8];

    public bool Equals(Id other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d;
    public override bool Equals(object? obj) => obj is Id other && Equals(other);
    // The bytes are a hash already: any 64 of them are a good hash code.
    public override int GetHashCode() => (int)_b ^ (int)(_b >> 32);
    public int CompareTo(Id other)
    {
        var c = _a.CompareTo(other._a);
        if (c != 0) return c;
        c = _b.CompareTo(other._b);
        if (c != 0) return c;
        c = _c.CompareTo(other._c);
        return c != 0 ? c : _d.CompareTo(other._d);
    }
    public static bool operator ==(Id x, Id y) => x.Equals(y);
    public static bool operator !=(Id x, Id y) => !x.Equals(y);
}

public sealed class IdJsonConverter : JsonConverter<Id>
{
    public override Id Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var s = reader.GetString();
        if (s == null || !Id.TryParse(s, out var id)) throw new JsonException($"'{s}' is not a valid id");
        return id;
    }

    public override void Write(Utf8JsonWriter writer, Id value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString());
}
