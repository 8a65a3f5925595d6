using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Backups.Core.FileSystem;

namespace Backups.Core.Trees;

/// <summary>
/// restic stores a node's name as Go's strconv.Quote of its bytes without the outer quotes, inside the JSON
/// string, and unquotes it on reading: that is how a backslash, a quote, control characters and bytes that are
/// not UTF-8 survive. Names here are <see cref="FileName"/> strings, so every byte sequence round-trips.
/// </summary>
public static class NodeName
{
    private const string Hex = "0123456789abcdef";

    public static string Quote(string name)
    {
        ReadOnlySpan<byte> bytes = FileName.Encode(name);
        var quoted = new StringBuilder(bytes.Length + 8);
        while (!bytes.IsEmpty)
        {
            if (Rune.DecodeFromUtf8(bytes, out var rune, out var used) != OperationStatus.Done)
            {
                AppendHexByte(quoted, bytes[0]); // Go escapes each byte of invalid UTF-8 on its own
                bytes = bytes[1..];
                continue;
            }
            bytes = bytes[used..];
            var r = rune.Value;
            if (r is '"' or '\\') quoted.Append('\\').Append((char)r);
            else if (IsPrint(rune)) quoted.Append(rune.ToString());
            else if (r < 0x80 && Escapes.IndexOf((char)r) is var e and >= 0) quoted.Append('\\').Append(EscapeLetters[e]);
            else if (r < ' ' || r == 0x7f) AppendHexByte(quoted, (byte)r);
            else if (r < 0x10000) quoted.Append("\\u").Append(r.ToString("x4", CultureInfo.InvariantCulture));
            else quoted.Append("\\U").Append(r.ToString("x8", CultureInfo.InvariantCulture));
        }
        return quoted.ToString();
    }

    private const string Escapes = "\a\b\f\n\r\t\v", EscapeLetters = "abfnrtv";

    private static void AppendHexByte(StringBuilder s, byte b) => s.Append("\\x").Append(Hex[b >> 4]).Append(Hex[b & 0xf]);

    /// <summary>Go's strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.</summary>
    private static bool IsPrint(Rune r)
    {
        if (r.Value < 0x80) return r.Value is >= 0x20 and < 0x7f;
        return Rune.GetUnicodeCategory(r) switch
        {
            UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
                or UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
                or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned => false,
            _ => true,
        };
    }

    /// <summary>Go's strconv.Unquote of the text between double quotes; null when it is not valid Go syntax.</summary>
    public static string? Unquote(string quoted)
    {
        var bytes = new List<byte>(quoted.Length);
        var utf8 = new byte[4];
        for (var i = 0; i < quoted.Length; i++)
        {
            var c = quoted[i];
            if (c is '"' or '\n') return null;
            if (c != '\\')
            {
                if (!Rune.TryGetRuneAt(quoted, i, out var rune)) return null;
                AddRune(rune);
                i += rune.Utf16SequenceLength - 1;
                continue;
            }
            if (++i == quoted.Length) return null;
            c = quoted[i];
            switch (c)
            {
                case '\\' or '"':
                    bytes.Add((byte)c);
                    break;
                case 'x':
                    if (!TryHex(quoted, i + 1, 2, out var b)) return null;
                    bytes.Add((byte)b);
                    i += 2;
                    break;
                case 'u' or 'U':
                    var digits = c == 'u' ? 4 : 8;
                    if (!TryHex(quoted, i + 1, digits, out var v) || !Rune.IsValid(v)) return null;
                    AddRune(new Rune(v));
                    i += digits;
                    break;
                case >= '0' and <= '7':
                    if (i + 2 >= quoted.Length) return null;
                    var octal = 0;
                    for (var k = 0; k < 3; k++)
                    {
                        if (quoted[i + k] is not (>= '0' and <= '7')) return null;
                        octal = octal * 8 + (quoted[i + k] - '0');
                    }
                    if (octal > 255) return null;
                    bytes.Add((byte)octal);
                    i += 2;
                    break;
                default:
                    var letter = EscapeLetters.IndexOf(c);
                    if (letter < 0) return null;
                    bytes.Add((byte)Escapes[letter]);
                    break;
            }
        }
        return FileName.Decode(bytes.ToArray());

        void AddRune(Rune rune)
        {
            var n = rune.EncodeToUtf8(utf8);
            for (var k = 0; k < n; k++) bytes.Add(utf8[k]);
        }
    }

    private static bool TryHex(string s, int start, int digits, out int value)
    {
        value = 0;
        if (start + digits > s.Length) return false;
        for (var k = start; k < start + digits; k++)
        {
            var d = Hex.IndexOf(char.ToLowerInvariant(s[k]));
            if (d < 0) return false;
            value = value * 16 + d;
        }
        return true;
    }
}

/// <summary>Reads and writes a node's name in restic's quoted form.</summary>
public sealed class NodeNameJsonConverter : JsonConverter<string>
{
    public override string Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        string text;
        try
        {
            text = reader.GetString() ?? "";
        }
        catch (InvalidOperationException e) // a lone surrogate escaped in the JSON
        {
            throw new JsonException("a node name is not valid text", e);
        }
        return NodeName.Unquote(text) ?? throw new JsonException("a node name is not validly quoted");
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) =>
        writer.WriteStringValue(NodeName.Quote(value));
}
