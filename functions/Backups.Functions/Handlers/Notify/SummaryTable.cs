using System.Globalization;
using System.Net;
using System.Text;
using Backups.Core.Reporting;

namespace Backups.Functions.Handlers.Notify;

/// <summary>
/// The status table of `backup-agent status` (<see cref="SourceStatuses"/>) and a chart of the repository's stored
/// size and each night's growth over the last 30 nights, as plain text (email text part, webhook) and as HTML for
/// mail clients. The HTML uses only tables, widths in attributes and inline background colours: Gmail drops
/// style sheets and Outlook's Word engine ignores most CSS, but both render table cells of a given width and
/// colour, which is all a bar needs. No images, so nothing is blocked as remote content.
/// </summary>
public static class SummaryTable
{
    private const int BarPixels = 300;

    /// <summary>Stored size (all sources) at the end of each night with growth, and that night's growth.</summary>
    public static List<(DateOnly Night, long Stored, long Added)> Chart(IReadOnlyList<SourceStatus> sources) =>
    [
        .. sources.SelectMany(s => s.Growth).GroupBy(g => g.Night).OrderBy(g => g.Key).Select(g =>
        {
            var end = new DateTimeOffset(g.Key.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).AddDays(1);
            return (g.Key, sources.Sum(s => s.StoredBefore(end)), g.Sum(x => x.BytesAdded));
        }),
    ];

    public static void AppendText(StringBuilder body, IReadOnlyList<SourceStatus> sources, IReadOnlyList<StorageClassCost> cost)
    {
        body.AppendLine($"  {"source",-16} {"latest",-17} {"age",7} {"restores",10} {"stored",10} {"dedup",6} {"avg growth/night",16}");
        foreach (var s in sources)
            body.AppendLine($"  {s.Source,-16} {s.Latest.Time.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),-17} {SourceStatuses.AgeText(s.Age),7} " +
                            $"{Size(s.RestoreSize),10} {Size(s.Stored),10} {Ratio(s),6} {AverageGrowth(s),16}");
        body.AppendLine().AppendLine("  Stored size and growth per night:");
        var chart = Chart(sources);
        var widest = Math.Max(1, chart.Select(c => c.Added).DefaultIfEmpty(0).Max());
        foreach (var (night, stored, added) in chart)
            body.AppendLine($"  {night:MM-dd} {new string('#', (int)Math.Ceiling(30.0 * Math.Max(0, added) / widest)),-30} +{Size(added)}, {Size(stored)} stored");
        body.AppendLine().AppendLine("  Storage this month (estimate): " + string.Join(", ", cost.Select(c => $"{c.StorageClass} {Size(c.Bytes)} {Dollars(c)}")));
    }

    /// <param name="preface">Text shown above the summary (a failure report the summary rides along with).</param>
    public static string Html(string heading, IReadOnlyList<SourceStatus> sources, IReadOnlyList<StorageClassCost> cost, string footer, string? preface = null)
    {
        static string E(string s) => WebUtility.HtmlEncode(s);
        const string cell = "style=\"padding:4px 8px;border-bottom:1px solid #dddddd;font-family:Arial,sans-serif;font-size:13px\"";
        var html = new StringBuilder()
            .Append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>").Append(E(heading)).Append("</title></head>")
            .Append("<body style=\"margin:0;padding:16px;font-family:Arial,sans-serif;color:#222222\">");
        if (preface != null) html.Append("<pre style=\"font-size:13px;color:#a00000\">").Append(E(preface)).Append("</pre>");
        html
            .Append("<h2 style=\"font-size:18px\">").Append(E(heading)).Append("</h2>")
            .Append("<table role=\"presentation\" cellspacing=\"0\" cellpadding=\"0\" border=\"0\"><tr>");
        foreach (var h in new[] { "source", "latest snapshot", "age", "restores to", "stored", "dedup", "avg growth/night" })
            html.Append("<th align=\"left\" ").Append(cell).Append('>').Append(h).Append("</th>");
        html.Append("</tr>");
        foreach (var s in sources)
        {
            html.Append("<tr>");
            foreach (var v in new[] { s.Source, s.Latest.Id.Short + " " + s.Latest.Time.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC",
                         SourceStatuses.AgeText(s.Age), Size(s.RestoreSize), Size(s.Stored), Ratio(s), AverageGrowth(s) })
                html.Append("<td ").Append(cell).Append('>').Append(E(v)).Append("</td>");
            html.Append("</tr>");
        }
        html.Append("</table><h3 style=\"font-size:15px\">Stored size and growth per night</h3>")
            .Append("<table role=\"presentation\" cellspacing=\"0\" cellpadding=\"0\" border=\"0\">");
        var chart = Chart(sources);
        var widest = Math.Max(1, chart.Select(c => c.Added).DefaultIfEmpty(0).Max());
        foreach (var (night, stored, added) in chart)
        {
            var width = Math.Max(1, (int)Math.Round((double)BarPixels * Math.Max(0, added) / widest));
            html.Append("<tr><td ").Append(cell).Append('>').Append(night.ToString("MM-dd", CultureInfo.InvariantCulture)).Append("</td>")
                .Append("<td ").Append(cell).Append("><table role=\"presentation\" cellspacing=\"0\" cellpadding=\"0\" border=\"0\"><tr>")
                .Append("<td class=\"bar\" width=\"").Append(width).Append("\" height=\"12\" bgcolor=\"#3b7dd8\" style=\"background-color:#3b7dd8;width:")
                .Append(width).Append("px;height:12px;font-size:1px;line-height:1px\">&nbsp;</td></tr></table></td>")
                .Append("<td ").Append(cell).Append(">+").Append(E(Size(added))).Append("</td>")
                .Append("<td ").Append(cell).Append('>').Append(E(Size(stored))).Append(" stored</td></tr>");
        }
        html.Append("</table><p style=\"font-size:13px\">Storage this month (estimate): ")
            .Append(E(string.Join(", ", cost.Select(c => $"{c.StorageClass} {Size(c.Bytes)} {Dollars(c)}")))).Append("</p>")
            .Append("<pre style=\"font-size:12px;color:#555555\">").Append(E(footer)).Append("</pre></body></html>");
        return html.ToString();
    }

    private static string AverageGrowth(SourceStatus s) => s.Growth.Count == 0 ? "-" : "+" + Size((long)s.Growth.Average(g => g.BytesAdded));

    private static string Ratio(SourceStatus s) => s.DedupRatio.ToString("0.0", CultureInfo.InvariantCulture) + "x";

    private static string Dollars(StorageClassCost c) => "$" + c.MonthlyCost.ToString("0.00", CultureInfo.InvariantCulture);

    private static string Size(long bytes) => bytes >= 1 << 30 ? $"{bytes / (double)(1 << 30):0.0} GiB" : $"{bytes / 1048576.0:0.0} MiB";
}
