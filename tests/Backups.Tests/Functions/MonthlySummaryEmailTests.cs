using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Backups.Functions.Contracts;
using Backups.Functions.Handlers.Notify;
using Backups.Functions.Runtime;
using Backups.Tests.Aws;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Functions;

/// <summary>
/// The monthly summary as aws-ses-v2-local receives it: a plain-text part and an HTML part, both with the status
/// table (the figures `backup-agent status` prints) and the chart of stored size and growth per night, whose
/// numbers restic's raw-data confirms; and the summary rides along with the failure email when the month's first
/// run fails, so a month whose first run failed still gets one, and the run history keeps later runs from sending
/// it again.
/// </summary>
public sealed class MonthlySummaryEmailTests(SesLocalFixture ses, NotifyRepository repository)
    : IClassFixture<SesLocalFixture>, IClassFixture<NotifyRepository>
{
    private static readonly DateTimeOffset RunStart = NotifyRepository.RunStart;

    private FunctionEnvironment Environment(string host) => new(repository.History.Variables(
    [
        ("AWS_REGION", "eu-west-1"), ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"), ("AWS_SECRET_ACCESS_KEY", "notify/secret"),
        ("AWS_ENDPOINT_URL_SESV2", ses.Endpoint.ToString()), ("NOTIFY_SENDER", "backups@example.com"),
        ("NOTIFY_RECIPIENTS", "ops@example.com"), ("BACKUP_HOST", host), ("BACKUP_COLD_AFTER_DAYS", "10"),
    ]));

    private async Task<JsonNode> EmailAsync(string subject) =>
        Assert.Single(await ses.StoredEmailsAsync(), e => e!["subject"]!.GetValue<string>() == subject)!;

    [Fact]
    public async Task The_summary_email_has_the_status_table_and_a_chart_of_stored_size_and_nightly_growth_in_text_and_html()
    {
        using var environment = Environment($"box-{Guid.NewGuid():N}");
        var result = await new NotifyFunction(environment).NotifyAsync(
            new NotifyInput { Outcome = NotifyOutcome.Success, ExecutionStartTime = RunStart }, SnapshotHistory.Invocation());

        var email = await EmailAsync(result.Subject!);
        var text = email["body"]!["text"]!.GetValue<string>();
        var html = email["body"]!["html"]!.GetValue<string>();
        var stored = await RawDataAsync(DateTimeOffset.MaxValue);
        var before = await RawDataAsync(RunStart);

        // Text: a table row per source, a chart row per night with growth, the storage estimate.
        Assert.Contains("avg growth/night", text);
        Assert.Matches(@"\n  app-db +2026-11-15 03:02 ", text);
        Assert.Matches(@"\n  cache +2026-10-31 03:01 ", text);
        Assert.Contains("Stored size and growth per night:", text);
        Assert.Matches($@"\n  10-31 #+ +\+{Regex.Escape(MiB(before))}, {Regex.Escape(MiB(before))} stored", text);
        Assert.Matches($@"\n  11-15 #+ +\+{Regex.Escape(MiB(stored - before))}, {Regex.Escape(MiB(stored))} stored", text);
        // Cold after 10 days: what was stored on 10-31 is in GLACIER_IR by 11-15.
        Assert.Contains($"GLACIER_IR {MiB(before)}", text);

        // HTML: the same table and a bar per night, as table cells of a width (what Gmail and Outlook render).
        Assert.StartsWith("<!DOCTYPE html>", html);
        foreach (var cell in new[] { ">app-db<", ">cache<", ">Stored size and growth per night<", $">+{MiB(stored - before)}<", $">{MiB(stored)} stored<" })
            Assert.Contains(cell, html);
        var bars = Regex.Matches(html, "<td class=\"bar\" width=\"(\\d+)\"").Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(2, bars.Count);
        Assert.Equal(300, bars.Max());
        Assert.DoesNotContain("<img", html);
        Assert.DoesNotContain("<style", html);
    }

    [Fact]
    public async Task The_summary_email_renders_in_headless_chromium_with_the_tables_figures_and_a_bar_per_night()
    {
        using var environment = Environment($"box-{Guid.NewGuid():N}");
        var result = await new NotifyFunction(environment).NotifyAsync(
            new NotifyInput { Outcome = NotifyOutcome.Success, ExecutionStartTime = RunStart }, SnapshotHistory.Invocation());
        var email = await EmailAsync(result.Subject!);
        var text = email["body"]!["text"]!.GetValue<string>().ReplaceLineEndings("\n");
        var html = email["body"]!["html"]!.GetValue<string>();
        using var dir = new TempDir();
        var page = dir.Combine("summary.html");
        await File.WriteAllTextAsync(page, html);
        using var chromium = new HeadlessChromium();

        // What the page shows once rendered: every figure of the text part's table rows, the nights' growth and
        // the storage estimate.
        var shown = Regex.Replace(WebUtility.HtmlDecode(Regex.Replace(await chromium.DumpDomAsync(page), "<[^>]+>", " ")), @"\s+", " ");
        var rows = Regex.Matches(text, @"^  (\S+) +(\d{4}-\d\d-\d\d \d\d:\d\d) +(\d+[dh] \d+[hm]) +([\d.]+ [MG]iB) +([\d.]+ [MG]iB) +([\d.]+x) +(\S+ [MG]iB)$", RegexOptions.Multiline);
        Assert.Equal(["app-db", "cache"], rows.Select(r => r.Groups[1].Value));
        foreach (var figure in rows.SelectMany(r => r.Groups.Values.Skip(1)).Select(g => g.Value))
            Assert.Contains(figure, shown);
        var stored = await RawDataAsync(DateTimeOffset.MaxValue);
        var before = await RawDataAsync(RunStart);
        foreach (var figure in new[] { $"+{MiB(before)} {MiB(before)} stored", $"+{MiB(stored - before)} {MiB(stored)} stored", $"GLACIER_IR {MiB(before)}" })
            Assert.Contains(figure, shown);

        // The chart as drawn: a block of the bar colour per night, 12 pixels high and as wide as the night's growth
        // makes it (the widest 300), and dark text above it (the table).
        var screenshot = await chromium.ScreenshotAsync(page);
        var widths = Regex.Matches(html, "<td class=\"bar\" width=\"(\\d+)\"").Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        var bars = new List<(int Top, int Rows, int Width)>();
        for (var y = 0; y < screenshot.Height; y++)
        {
            var run = Enumerable.Range(0, screenshot.Width).Count(x => IsBar(screenshot[x, y]));
            if (run == 0) continue;
            if (bars.Count > 0 && bars[^1].Top + bars[^1].Rows == y && bars[^1].Width == run) bars[^1] = bars[^1] with { Rows = bars[^1].Rows + 1 };
            else bars.Add((y, 1, run));
        }
        Assert.Equal(widths.Select(w => (12, w)), bars.Select(b => (b.Rows, b.Width)));
        Assert.Contains(300, widths);
        var dark = Enumerable.Range(0, bars[0].Top).Sum(y => Enumerable.Range(0, screenshot.Width).Count(x => screenshot[x, y] is { R: < 100, G: < 100, B: < 100 }));
        Assert.True(dark > 2000, $"the table's text is drawn above the chart ({dark} dark pixels)");
    }

    /// <summary>The bars' #3b7dd8, give or take a step of colour conversion.</summary>
    private static bool IsBar((byte R, byte G, byte B) pixel) =>
        Math.Abs(pixel.R - 0x3b) <= 2 && Math.Abs(pixel.G - 0x7d) <= 2 && Math.Abs(pixel.B - 0xd8) <= 2;

    [Fact]
    public async Task A_failed_first_run_of_the_month_still_sends_the_summary_with_the_failure_and_the_months_later_runs_do_not()
    {
        using var environment = Environment($"box-{Guid.NewGuid():N}");
        // The month's first run fails at Verify.
        var start = new DateTimeOffset(2026, 12, 1, 3, 0, 0, TimeSpan.Zero);
        var result = await new NotifyFunction(environment).NotifyAsync(new NotifyInput
        {
            Outcome = NotifyOutcome.Failure, Step = "Verify", Error = "Backups.RepositoryDamaged", Cause = "pack 0123 is damaged",
            ExecutionStartTime = start,
        }, SnapshotHistory.Invocation());

        Assert.True(result.Sent);
        var email = await EmailAsync(result.Subject!);
        Assert.StartsWith("Backup failed: Verify on box-", result.Subject);
        var text = email["body"]!["text"]!.GetValue<string>();
        Assert.Contains("The backup workflow failed at Verify", text);
        Assert.Contains("avg growth/night", text);
        Assert.Contains("Stored size and growth per night:", text);
        var html = email["body"]!["html"]!.GetValue<string>();
        Assert.Contains("The backup workflow failed at Verify", html);
        Assert.Contains("class=\"bar\"", html);

        // The history records that December's summary went out: the month's later runs, succeeded or failed, send none.
        var success = await new NotifyFunction(environment).NotifyAsync(new NotifyInput
        {
            Outcome = NotifyOutcome.Success, ExecutionStartTime = start.AddDays(1),
        }, SnapshotHistory.Invocation());
        Assert.False(success.Sent);
        Assert.StartsWith("the summary for December 2026 was sent on ", success.Reason);
        var later = await new NotifyFunction(environment).NotifyAsync(new NotifyInput
        {
            Outcome = NotifyOutcome.Failure, Step = "Retention", Error = "Backups.Unavailable", Cause = "timeout",
            ExecutionStartTime = start.AddDays(2),
        }, SnapshotHistory.Invocation());
        var laterEmail = await EmailAsync(later.Subject!);
        Assert.DoesNotContain("avg growth/night", laterEmail["body"]!["text"]!.GetValue<string>());
        Assert.Null(laterEmail["body"]!["html"]);
    }

    /// <summary>restic's raw-data of the snapshots taken before <paramref name="before"/>.</summary>
    private async Task<long> RawDataAsync(DateTimeOffset before)
    {
        var ids = (await repository.History.Restic.JsonAsync("snapshots")).EnumerateArray()
            .Where(s => s.GetProperty("time").GetDateTimeOffset() < before)
            .Select(s => s.GetProperty("id").GetString()!).ToArray();
        return (await repository.History.Restic.JsonAsync(["stats", "--mode", "raw-data", .. ids])).GetProperty("total_size").GetInt64();
    }

    private static string MiB(long bytes) => $"{bytes / 1048576.0:0.0} MiB";
}
