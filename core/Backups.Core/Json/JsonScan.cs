using System.Text.Json;
using Backups.Core.Repositories;

namespace Backups.Core.Json;

/// <summary>
/// Steps for reading repository JSON token by token, where building objects would cost too much (every index
/// entry and every tree of a repository, as prune reads them). A malformed file is reported as damaged.
/// </summary>
internal static class JsonScan
{
    public static JsonTokenType Next(ref Utf8JsonReader reader, string what) =>
        reader.Read() ? reader.TokenType : throw Damaged(what);

    public static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string what)
    {
        if (Next(ref reader, what) != type) throw Damaged(what);
    }

    /// <summary>The id in the current string token.</summary>
    public static Id ReadId(ref Utf8JsonReader reader, string what)
    {
        Span<char> hex = stackalloc char[2 * Id.Size];
        if (reader.TokenType != JsonTokenType.String || reader.HasValueSequence || reader.ValueIsEscaped || reader.ValueSpan.Length != hex.Length)
            throw Damaged(what);
        for (var i = 0; i < hex.Length; i++) hex[i] = (char)reader.ValueSpan[i];
        return Id.TryParse(hex, out var id) ? id : throw Damaged(what);
    }

    /// <summary>Moves into the array of the property just read; false when the property is null.</summary>
    public static bool EnterArray(ref Utf8JsonReader reader, string what)
    {
        var token = Next(ref reader, what);
        if (token == JsonTokenType.Null) return false;
        return token == JsonTokenType.StartArray ? true : throw Damaged(what);
    }

    public delegate void ElementReader(ref Utf8JsonReader reader);

    /// <summary>Reads a JSON object's array of objects (`{"nodes":[{...},...]}`): the reader is given each element at
    /// its start and leaves it at its end. Other properties are skipped; a syntax error is reported as damage.</summary>
    public static void ReadObjects(ReadOnlySpan<byte> json, ReadOnlySpan<byte> property, string what, ElementReader element)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            Expect(ref reader, JsonTokenType.StartObject, what);
            while (Next(ref reader, what) == JsonTokenType.PropertyName)
            {
                if (!reader.ValueTextEquals(property)) reader.Skip();
                else if (EnterArray(ref reader, what))
                    while (Next(ref reader, what) == JsonTokenType.StartObject) element(ref reader);
            }
        }
        catch (JsonException e)
        {
            throw new RepositoryException(ErrorKind.Damaged, $"{what} is damaged: not valid JSON ({e.Message.Split('.')[0]})", e);
        }
    }

    public static RepositoryException Damaged(string what) => new(ErrorKind.Damaged, $"{what} is damaged: its JSON has an unexpected shape");
}
