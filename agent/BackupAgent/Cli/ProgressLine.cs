using System.Globalization;

namespace BackupAgent.Cli;

/// <summary>
/// One live status line at the bottom of a terminal, redrawn twice a second from <c>render</c>; every other line
/// written meanwhile (through <see cref="Output"/>) clears it first, so that no message lands inside it. Drawn once
/// at the start and once, with the final figures, at the end before it is cleared.
/// </summary>
public sealed class ProgressLine : IAsyncDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);
    // Carriage return, then erase the whole line (ECMA-48 EL 2), as restic's terminal status does.
    private const string ClearSequence = "\r\u001b[2K";
    private readonly TextWriter _terminal;
    private readonly Lock _lock;
    private readonly Func<string> _render;
    private readonly Action _detach;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private bool _visible;

    internal ProgressLine(TextWriter terminal, Lock @lock, Func<string> render, Action detach)
    {
        (_terminal, _lock, _render, _detach) = (terminal, @lock, render, detach);
        Draw();
        _loop = RedrawAsync();
    }

    private async Task RedrawAsync()
    {
        try
        {
            while (true)
            {
                await Task.Delay(Interval, _stop.Token);
                Draw();
            }
        }
        catch (OperationCanceledException)
        {
            // stopped
        }
    }

    private void Draw()
    {
        var text = _render();
        var width = Width();
        if (text.Length >= width) text = text[..(width - 1)];
        lock (_lock)
        {
            _terminal.Write(ClearSequence + text);
            _terminal.Flush();
            _visible = true;
        }
    }

    /// <summary>Called under the output's lock before another line is written.</summary>
    internal void Clear()
    {
        if (!_visible) return;
        _terminal.Write(ClearSequence);
        _visible = false;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        Draw();
        lock (_lock)
        {
            Clear();
            _terminal.Flush();
            _detach();
        }
        _stop.Dispose();
    }

    private static int Width()
    {
        try
        {
            return Console.WindowWidth is var w and > 10 ? w : 80;
        }
        catch (IOException)
        {
            return 80;
        }
    }

    /// <summary>restic's status: "[0:12] 42.50%  1234 files 1.234 GiB of 2.900 GiB, 85.000 MiB/s, ETA 0:16" (the
    /// percentage, total and ETA where the total is known).</summary>
    public static string Status(TimeSpan elapsed, long? files, long bytes, long? total) => $"[{Clock(elapsed)}] {Figures(elapsed, files, bytes, total)}";

    /// <summary>The status without its clock (a run shows one clock for several sources).</summary>
    public static string Figures(TimeSpan elapsed, long? files, long bytes, long? total)
    {
        var seconds = Math.Max(elapsed.TotalSeconds, 0.001);
        var text = "";
        if (total is > 0 and var t) text += (100.0 * Math.Min(bytes, t) / t).ToString("0.00", CultureInfo.InvariantCulture) + "%  ";
        if (files != null) text += $"{files} files ";
        text += $"{Size.Format(bytes)}{(total is > 0 ? " of " + Size.Format(total.Value) : "")}, {Size.Format((long)(bytes / seconds))}/s";
        if (total is > 0 && bytes > 0)
            text += $", ETA {Clock(TimeSpan.FromSeconds(Math.Max(0, total.Value - bytes) / (bytes / seconds)))}";
        return text;
    }

    /// <summary>restic's durations: m:ss, or h:mm:ss from an hour on.</summary>
    public static string Clock(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}" : $"{(int)t.TotalMinutes}:{t.Seconds:00}";
}
