using System.Text;

namespace BackupAgent.Run;

/// <summary>
/// The end of what a child program writes to stderr: usually the reason it failed. Drained as it comes, so
/// the child never blocks on a full pipe, and bounded, so a chatty child costs no memory.
/// </summary>
public sealed class StderrTail
{
    private const int TailChars = 4096;
    private readonly StringBuilder _text = new();

    public StderrTail(StreamReader stderr) => Drained = DrainAsync(stderr);

    /// <summary>Completes when the child has closed its stderr.</summary>
    public Task Drained { get; }

    private async Task DrainAsync(StreamReader stderr)
    {
        var buffer = new char[1024];
        int n;
        while ((n = await stderr.ReadAsync(buffer)) > 0)
            lock (_text)
            {
                _text.Append(buffer, 0, n);
                if (_text.Length > 2 * TailChars) _text.Remove(0, _text.Length - TailChars);
            }
    }

    public string Text
    {
        get
        {
            lock (_text)
            {
                var text = _text.ToString();
                return (text.Length > TailChars ? text[^TailChars..] : text).Trim();
            }
        }
    }
}
