using System.Text;

namespace BackupAgent.Cli;

/// <summary>
/// restic's text tables (internal/ui/table): columns two spaces apart, each as wide as its header or its widest
/// line, a cell of several lines spread over as many rows, a dashed line under the header and after the rows,
/// then the footer; trailing spaces trimmed.
/// </summary>
public sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    /// <summary>With restic's blank line between rows (it sets one when a snapshot lists several paths).</summary>
    public bool BlankLineBetweenRows { get; set; }

    public void Add(params string[] cells) => _rows.Add(cells);

    public string Render(string footer)
    {
        var widths = headers.Select(h => h.Length).ToArray();
        foreach (var row in _rows)
            for (var i = 0; i < row.Length; i++)
                widths[i] = Math.Max(widths[i], row[i].Split('\n').Max(l => l.Length));
        var rule = new string('-', widths.Sum() + 2 * (widths.Length - 1));
        var text = new StringBuilder();
        Write(text, headers, widths);
        text.Append(rule).Append('\n');
        for (var r = 0; r < _rows.Count; r++)
        {
            if (r > 0 && BlankLineBetweenRows) text.Append('\n');
            Write(text, _rows[r], widths);
        }
        return text.Append(rule).Append('\n').Append(footer).Append('\n').ToString();
    }

    private static void Write(StringBuilder text, string[] cells, int[] widths)
    {
        var lines = cells.Select(c => c.Split('\n')).ToArray();
        for (var l = 0; l < lines.Max(c => c.Length); l++)
        {
            var line = string.Join("  ", lines.Select((c, i) => (l < c.Length ? c[l] : "").PadRight(widths[i])));
            text.Append(line.TrimEnd(' ')).Append('\n');
        }
    }
}
