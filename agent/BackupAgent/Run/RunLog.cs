using System.Text.Encodings.Web;
using System.Text.Json;
using Backups.Aws.Secrets;

namespace BackupAgent.Run;

/// <summary>Structured log lines (one JSON object each) on stderr, with secrets masked.</summary>
public sealed class RunLog(TextWriter writer, Redactor redactor)
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly Lock _lock = new();

    public void Info(string message, params (string Key, object? Value)[] fields) => Write("info", message, fields);
    public void Warn(string message, params (string Key, object? Value)[] fields) => Write("warn", message, fields);
    public void Error(string message, params (string Key, object? Value)[] fields) => Write("error", message, fields);

    private void Write(string level, string message, (string Key, object? Value)[] fields)
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
        var line = System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        lock (_lock) writer.WriteLine(line);
    }
}
