using BackupAgent.Drills;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Drills;

/// <summary>Which nights `drill --when-due` drills, and that a night it does not touches nothing.</summary>
public sealed class DrillCadenceTests
{
    // 2026-11-22 is a Sunday; 2026-12-01 the 1st of a month (a Tuesday).
    private static readonly DateTimeOffset Sunday = new(2026, 11, 22, 3, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Monday = Sunday.AddDays(1);
    private static readonly DateTimeOffset FirstOfMonth = new(2026, 12, 1, 3, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("daily", true, true, true)]
    [InlineData("weekly", true, false, false)]
    [InlineData("monthly", false, false, true)]
    [InlineData("never", false, false, false)]
    public void Cadence_decides_by_the_utc_date(string cadence, bool sunday, bool monday, bool firstOfMonth)
    {
        Assert.Equal(sunday, DrillCadence.WhyNotToday(cadence, Sunday) == null);
        Assert.Equal(monday, DrillCadence.WhyNotToday(cadence, Monday) == null);
        Assert.Equal(firstOfMonth, DrillCadence.WhyNotToday(cadence, FirstOfMonth) == null);
        // Sunday 23:30 in New York is Monday in UTC: the date that counts is UTC's.
        Assert.Equal(monday, DrillCadence.WhyNotToday(cadence, new DateTimeOffset(2026, 11, 22, 23, 30, 0, TimeSpan.FromHours(-5))) == null);
    }

    /// <summary>A config whose repository does not exist: a drill that ran would fail with exit 10.</summary>
    private static async Task<string> ConfigAsync(TempDir dir, string cadence)
    {
        var config = dir.Combine("config.json");
        await File.WriteAllTextAsync(config, $$"""
            { "repository": "{{dir.Combine("missing")}}", "password": { "value": "x" }, "drill_cadence": "{{cadence}}",
              "sources": [ { "name": "notes", "kind": "paths", "paths": ["{{dir.Path}}"] } ] }
            """);
        return config;
    }

    [Fact]
    public async Task A_night_off_reports_why_and_opens_nothing()
    {
        using var dir = new TempDir();
        var config = await ConfigAsync(dir, "never");

        var r = await Processes.RunAsync(Agent.Program, ["--json", "drill", "--when-due", "--config", config]);

        Assert.True(r.ExitCode == 0, r.Stderr);
        var result = System.Text.Json.JsonDocument.Parse(r.StdoutText).RootElement;
        Assert.True(result.GetProperty("passed").GetBoolean());
        Assert.Equal("drill_cadence is never", result.GetProperty("skipped").GetString());
        Assert.Empty(result.GetProperty("sources").EnumerateArray());
        Assert.False(Directory.Exists(dir.Combine("missing")));
        Assert.Equal(10, (await Processes.RunAsync(Agent.Program, ["drill", "--config", config])).ExitCode);
    }

    [Fact]
    public async Task An_unknown_cadence_is_a_config_error_naming_the_field()
    {
        using var dir = new TempDir();
        var config = await ConfigAsync(dir, "fortnightly");

        var r = await Processes.RunAsync(Agent.Program, ["drill", "--when-due", "--config", config]);

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("$.drill_cadence", r.Stderr);
    }
}
