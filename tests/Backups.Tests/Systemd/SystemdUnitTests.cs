using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Systemd;

/// <summary>
/// The single-box units (agent/systemd) pass `systemd-analyze verify` with nothing to say: no error and no
/// warning (verify exits 0 on a setting it ignores, so its output must be empty too). The programs they start are
/// pointed at the built agent, since verify checks that they exist. Without systemd-analyze the test fails
/// with the reason; tests/run.sh installs it.
/// </summary>
public sealed class SystemdUnitTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    public static string UnitsFolder
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
                if (Directory.Exists(Path.Combine(dir.FullName, "agent", "systemd"))) return Path.Combine(dir.FullName, "agent", "systemd");
            throw new InvalidOperationException("agent/systemd not found above the test assembly");
        }
    }

    /// <summary>Copies of the units, their programs pointed at the built agent; returns the copies' paths.</summary>
    private List<string> CopyUnits(Func<string, string>? change = null)
    {
        var copies = new List<string>();
        foreach (var unit in Directory.EnumerateFiles(UnitsFolder).Where(f => f.EndsWith(".service") || f.EndsWith(".timer")))
        {
            var text = File.ReadAllText(unit).Replace("/usr/local/bin/backup-agent", Agent.Program);
            var copy = _dir.Combine(Path.GetFileName(unit));
            File.WriteAllText(copy, change == null ? text : change(text));
            copies.Add(copy);
        }
        return copies;
    }

    private static async Task<ProcessResult> VerifyAsync(IEnumerable<string> units)
    {
        try
        {
            return await Processes.RunAsync("systemd-analyze", ["verify", "--man=no", .. units]);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new Xunit.Sdk.XunitException($"systemd-analyze cannot run here ({e.Message}): install the systemd package (tests/run.sh does)");
        }
    }

    [Fact]
    public async Task Every_unit_verifies_without_a_word()
    {
        var units = CopyUnits();
        string[] expected =
        [
            "backup-agent.service", "backup-agent.timer", "backup-agent-notify@.service", "backup-agent-maintenance.service",
            "backup-agent-maintenance.timer", "backup-agent-drill.service", "backup-agent-drill.timer", "backup-agent-wal.service",
        ];
        Assert.Equal(expected.Order(), units.Select(Path.GetFileName).Order()!);
        var r = await VerifyAsync(units);
        Assert.True(r.ExitCode == 0 && r.Stderr == "" && r.StdoutText == "", $"systemd-analyze verify exited {r.ExitCode}:\n{r.Stderr}{r.StdoutText}");
        // Each job reports its failure through the same notification unit (mail or webhook, notify.env).
        foreach (var service in units.Where(u => u.EndsWith(".service") && !u.Contains("notify@")))
            Assert.Contains("OnFailure=backup-agent-notify@%n.service", File.ReadAllText(service));
    }

    [Theory]
    [InlineData("OnCalendar=*-*-* 05:00:00 UTC", "OnCalendar=*-*-* 29:00:00 UTC")]
    [InlineData("Nice=19", "Nicety=19")]
    [InlineData("Type=oneshot", "Type=oneshoot")]
    public async Task A_broken_unit_does_not_verify(string good, string bad)
    {
        var units = CopyUnits(text => text.Replace(good, bad));
        var r = await VerifyAsync(units);
        Assert.False(r.ExitCode == 0 && r.Stderr == "" && r.StdoutText == "", "verify passed a unit with " + bad);
    }
}
