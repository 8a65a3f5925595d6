using System.Text.Json;
using Backups.Core.Repository;

namespace Backups.Core.Trees;

/// <summary>
/// The blobs a tree refers to (its files' content and its subtrees), read straight from the JSON. Prune reads
/// every tree of every snapshot and needs nothing else of a node, so it skips building nodes altogether.
/// </summary>
public static class TreeReferences
{
    public static void Read(ReadOnlySpan<byte> blob, Id tree, Action<Id> data, Action<Id> subtree)
    {
        try
        {
            var reader = new Utf8JsonReader(blob);
            Expect(ref reader, JsonTokenType.StartObject, tree);
            while (Next(ref reader, tree) == JsonTokenType.PropertyName)
            {
                if (!reader.ValueTextEquals("nodes"u8))
                {
                    reader.Skip();
                    continue;
                }
                if (Next(ref reader, tree) == JsonTokenType.Null) continue;
                if (reader.TokenType != JsonTokenType.StartArray) throw Damaged(tree);
                while (Next(ref reader, tree) == JsonTokenType.StartObject) ReadNode(ref reader, tree, data, subtree);
            }
        }
        catch (JsonException e)
        {
            throw new RepositoryException(ErrorKind.Damaged, $"tree {tree} is damaged: not valid JSON ({e.Message.Split('.')[0]})", e);
        }
    }

    private static void ReadNode(ref Utf8JsonReader reader, Id tree, Action<Id> data, Action<Id> subtree)
    {
        while (Next(ref reader, tree) == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("content"u8))
            {
                if (Next(ref reader, tree) == JsonTokenType.Null) continue;
                if (reader.TokenType != JsonTokenType.StartArray) throw Damaged(tree);
                while (Next(ref reader, tree) == JsonTokenType.String) data(IdOf(ref reader, tree));
            }
            else if (reader.ValueTextEquals("subtree"u8))
            {
                if (Next(ref reader, tree) == JsonTokenType.String) subtree(IdOf(ref reader, tree));
            }
            else reader.Skip();
        }
    }

    private static Id IdOf(ref Utf8JsonReader reader, Id tree)
    {
        Span<char> hex = stackalloc char[2 * Id.Size];
        if (reader.HasValueSequence || reader.ValueSpan.Length != hex.Length) throw Damaged(tree);
        for (var i = 0; i < hex.Length; i++) hex[i] = (char)reader.ValueSpan[i];
        return Id.TryParse(hex, out var id) ? id : throw Damaged(tree);
    }

    private static JsonTokenType Next(ref Utf8JsonReader reader, Id tree) =>
        reader.Read() ? reader.TokenType : throw Damaged(tree);

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, Id tree)
    {
        if (Next(ref reader, tree) != type) throw Damaged(tree);
    }

    private static RepositoryException Damaged(Id tree) =>
        new(ErrorKind.Damaged, $"tree {tree} is damaged: it is not a list of nodes");
}
