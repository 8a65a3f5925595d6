using System.Text.Json;
using System.Text.Json.Nodes;
using Backups.Core;
using Backups.Core.FileSystem;
using Backups.Core.Repositories;

namespace BackupAgent.Cli;

/// <summary>Where results go: stdout for results (text or JSON), stderr for messages.</summary>
public sealed class Output(Stream stdout, TextWriter stderr, bool json)
{
    public bool Json { get; } = json;
    public Stream Stdout { get; } = stdout;

    /// <summary>A line of text; a file name's bytes that are not UTF-8 go out as the very bytes (as restic prints them).</summary>
    public void Line(string text)
    {
        Stdout.Write(FileName.Encode(text));
        Stdout.WriteByte((byte)'\n');
        Stdout.Flush();
    }

    public void JsonLine(JsonNode node)
    {
        using (var w = new Utf8JsonWriter(Stdout, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            node.WriteTo(w);
        Stdout.WriteByte((byte)'\n');
        Stdout.Flush();
    }

    public void Message(string text) => stderr.WriteLine(text);

    /// <summary>A snapshot file left out of a listing because it cannot be read (restic warns the same way).</summary>
    public void SkippedSnapshot(RepositoryException damage) =>
        Message($"{ProgramInfo.Name}: warning: {damage.Message}; left out (run check)");
}
