using System.Text.Json;
using static Backups.Core.Json.JsonScan;

namespace Backups.Core.Trees;

/// <summary>
/// The blobs a tree refers to (its files' content and its subtrees), read straight from the JSON. Prune reads
/// every tree of every snapshot and needs nothing else of a node, so it skips building nodes altogether.
/// </summary>
public static class TreeReferences
{
    public static void Read(ReadOnlySpan<byte> blob, Id tree, Action<Id> data, Action<Id> subtree)
    {
        var what = $"tree {tree}";
        ReadObjects(blob, "nodes"u8, what, (ref Utf8JsonReader reader) => ReadNode(ref reader, what, data, subtree));
    }

    private static void ReadNode(ref Utf8JsonReader reader, string what, Action<Id> data, Action<Id> subtree)
    {
        while (Next(ref reader, what) == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("content"u8))
            {
                if (EnterArray(ref reader, what))
                    while (Next(ref reader, what) == JsonTokenType.String) data(ReadId(ref reader, what));
            }
            else if (reader.ValueTextEquals("subtree"u8))
            {
                if (Next(ref reader, what) == JsonTokenType.String) subtree(ReadId(ref reader, what));
            }
            else reader.Skip();
        }
    }
}
