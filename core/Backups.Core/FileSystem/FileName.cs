using System.Buffers;
using System.Text;

namespace Backups.Core.FileSystem;

/// <summary>
/// Linux file names are bytes, .NET strings are UTF-16. Valid UTF-8 decodes as usual; every byte that is not
/// part of valid UTF-8 becomes a lone low surrogate U+DC80..U+DCFF (Python's "surrogateescape"). Decoded text
/// never holds a lone surrogate, so every name round-trips to the very bytes it came from.
/// </summary>
public static class FileName
{
    private const char EscapeBase = '\uDC00';

    public static string Decode(ReadOnlySpan<byte> bytes)
    {
        if (System.Text.Unicode.Utf8.IsValid(bytes)) return Encoding.UTF8.GetString(bytes);
        var text = new StringBuilder(bytes.Length);
        while (!bytes.IsEmpty)
        {
            if (Rune.DecodeFromUtf8(bytes, out var rune, out var used) == OperationStatus.Done)
            {
                text.Append(rune.ToString());
                bytes = bytes[used..];
            }
            else
            {
                text.Append((char)(EscapeBase + bytes[0])); // one byte at a time, as Go reads invalid UTF-8
                bytes = bytes[1..];
            }
        }
        return text.ToString();
    }

    public static byte[] Encode(string name)
    {
        var bytes = new List<byte>(name.Length);
        Encode(name, bytes);
        return [.. bytes];
    }

    /// <summary>The name as a NUL-terminated C string for a system call.</summary>
    public static byte[] EncodeZ(string name)
    {
        var bytes = new List<byte>(name.Length + 1);
        Encode(name, bytes);
        bytes.Add(0);
        return [.. bytes];
    }

    private static void Encode(string name, List<byte> bytes)
    {
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsLowSurrogate(c) && c >= '\uDC80' && c <= '\uDCFF' && (i == 0 || !char.IsHighSurrogate(name[i - 1])))
            {
                bytes.Add((byte)(c - EscapeBase));
                continue;
            }
            Rune rune;
            if (char.IsHighSurrogate(c) && i + 1 < name.Length && char.IsLowSurrogate(name[i + 1])) rune = new Rune(c, name[++i]);
            else if (char.IsSurrogate(c)) rune = Rune.ReplacementChar;
            else rune = new Rune(c);
            var n = rune.EncodeToUtf8(utf8);
            for (var k = 0; k < n; k++) bytes.Add(utf8[k]);
        }
    }

    /// <summary>A name in a directory, as Go's path.Join writes it for a clean directory ("." adds nothing).</summary>
    public static string Join(string dir, string name) => dir switch
    {
        "." => name,
        "/" => "/" + name,
        _ => $"{dir}/{name}",
    };

    /// <summary>Byte order of the names' bytes: how Go, and so restic, sorts a tree's nodes.</summary>
    public static int Compare(string a, string b)
    {
        if (Ascii.IsValid(a) && Ascii.IsValid(b)) return string.CompareOrdinal(a, b);
        return Encode(a).AsSpan().SequenceCompareTo(Encode(b));
    }
}
