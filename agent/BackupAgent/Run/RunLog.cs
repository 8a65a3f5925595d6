using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using BackupAgent.Cli;
using Backups.Aws.Secrets;

namespace BackupAgent.Run;

/// <summary>
/// The log of a run or a drill on stderr, with secrets masked: one JSON object a line for journald, SSM and log
/// tools; on a terminal (without --json) one line of text each ("03:00:01 source started source=app-db"). With -q
/// only warnings and errors.
/// </summary>
public sealed class RunLog(TextWriter writer, Redactor redactor, bool asText = false, bool quiet = false)
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly Lock _lock = new();

    /// <summary>The log a command writes through its output: text on a terminal, JSON lines otherwise or with --json.</summary>
    public static RunLog For(Output output, Redactor redactor) =>
        new(output.Log, redactor, asText: output.Terminal && !output.Json, quiet: output.Quiet);

    /// <summary>Progress and other routine lines for a log reader, which a person at a terminal sees as the live line instead.</summary>
    public bool WantsProgress => !asText && !quiet;

    public void Info(string message, params (string Key, object? Value)[] fields)
    {
        if (!quiet) Write("info", message, fields);
    }

    public void Warn(string message, params (string Key, object? Value)[] fields) => Write("warn", message, fields);
    public void Error(string message, params (string Key, object? Value)[] fields) => Write("error", message, fields);

    private void Write(string level, string message, (string Key, object? Value)[] fields)
    {
        var line = asText ? Text(level, message, fields) : Json(level, message, fields);
        lock (_lock) writer.WriteLine(line);
    }

    private string Text(string level, string message, (string Key, object? Value)[] fields)
    {
        var text = new StringBuilder(DateTimeOffset.Now.ToString("HH:mm:ss", CultureInfo.InvariantCulture)).Append(' ');
        if (level != "info") text.Append(level == "warn" ? "warning: " : "error: ");
        text.Append(redactor.Redact(message));
        foreach (var (key, value) in fields)
        {
            var shown = value switch
            {
                null => null,
                double d => Math.Round(d, 3).ToString(CultureInfo.InvariantCulture),
                bool b => b ? "true" : "false",
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                _ => redactor.Redact(value.ToString() ?? ""),
            };
            if (shown != null) text.Append(' ').Append(key).Append('=').Append(shown.Contains(' ') ? $"\"{shown}\"" : shown);
        }
        return text.ToString();
    }

    private string Json(string level, string message, (string Key, object? Value)[] fields)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, Options))
        {
            json.WriteStartObject();
            json.WriteString("time", DateTimeOffset.UtcNow);
            json.WriteString("level", level);
            json.WriteString("msg", redactor.Redact(message));
            foreach (var (key, value) in fields)
            {
                switch (value)
                {
                    case null: break;
                    case long l: json.WriteNumber(key, l); break;
                    case int i: json.WriteNumber(key, i); break;
                    case double d: json.WriteNumber(key, Math.Round(d, 3)); break;
                    case bool b: json.WriteBoolean(key, b); break;
                    default: json.WriteString(key, redactor.Redact(value.ToString() ?? "")); break;
                }
            }
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
