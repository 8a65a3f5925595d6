using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Backups.Core;
using Backups.Core.FileSystem;
using Backups.Core.Repositories;

namespace BackupAgent.Cli;

/// <summary>
/// Where results go: stdout for results (text or JSON), stderr for messages. On a terminal (stderr a tty, neither
/// --json nor -q) a command may show one live progress line; every line written clears it first.
/// </summary>
public sealed class Output
{
    private readonly Lock _lock = new();
    private readonly TextWriter _stderr;
    private ProgressLine? _progress;

    /// <param name="terminal">stderr is a terminal a person watches.</param>
    public Output(Stream stdout, TextWriter stderr, bool json, bool quiet = false, bool terminal = false)
    {
        (Stdout, _stderr, Json, Quiet) = (stdout, stderr, json, quiet);
        Terminal = terminal;
        Log = new LineWriter(this);
    }

    public bool Json { get; }
    public bool Quiet { get; }
    public Stream Stdout { get; }

    /// <summary>stderr is a terminal: logs are written for a person, not as JSON lines (unless --json).</summary>
    public bool Terminal { get; }

    /// <summary>A live progress line is shown (a terminal, neither --json nor -q).</summary>
    public bool ShowsProgress => Terminal && !Json && !Quiet;

    /// <summary>stderr for whole lines (a log's): each clears the progress line first.</summary>
    public TextWriter Log { get; }

    /// <summary>A line of text; a file name's bytes that are not UTF-8 go out as the very bytes (as restic prints them).</summary>
    public void Line(string text)
    {
        lock (_lock)
        {
            _progress?.Clear();
            Stdout.Write(FileName.Encode(text));
            Stdout.WriteByte((byte)'\n');
            Stdout.Flush();
        }
    }

    /// <summary>A summary line, which -q leaves out (results a command is asked for are <see cref="Line"/>s).</summary>
    public void Info(string text)
    {
        if (!Quiet) Line(text);
    }

    public void JsonLine(JsonNode node)
    {
        lock (_lock)
        {
            using (var w = new Utf8JsonWriter(Stdout, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
                node.WriteTo(w);
            Stdout.WriteByte((byte)'\n');
            Stdout.Flush();
        }
    }

    public void Message(string text) => Log.WriteLine(text);

    /// <summary>A snapshot file left out of a listing because it cannot be read (restic warns the same way).</summary>
    public void SkippedSnapshot(RepositoryException damage) =>
        Message($"{ProgramInfo.Name}: warning: {damage.Message}; left out (run check)");

    /// <summary>A live progress line drawn from <paramref name="render"/> until disposed; on a terminal only.</summary>
    public async Task<IAsyncDisposable> ProgressAsync(Func<string> render)
    {
        if (!ShowsProgress) return NoProgress.Instance;
        if (_progress != null) await _progress.DisposeAsync();
        lock (_lock) return _progress = new ProgressLine(_stderr, _lock, render, () => _progress = null);
    }

    private sealed class NoProgress : IAsyncDisposable
    {
        public static readonly NoProgress Instance = new();
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>Collects what is written into lines and writes each whole, after clearing the progress line.</summary>
    private sealed class LineWriter(Output owner) : TextWriter
    {
        private readonly StringBuilder _pending = new();

        public override Encoding Encoding => owner._stderr.Encoding;

        public override void Write(char value)
        {
            lock (owner._lock)
            {
                _pending.Append(value);
                if (value != '\n') return;
                owner._progress?.Clear();
                owner._stderr.Write(_pending.ToString());
                owner._stderr.Flush();
                _pending.Clear();
            }
        }

        public override void Write(string? value)
        {
            lock (owner._lock)
                foreach (var c in value ?? "") Write(c);
        }
    }
}
