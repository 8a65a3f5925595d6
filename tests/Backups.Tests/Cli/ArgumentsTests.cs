using BackupAgent.Cli;
using Xunit;

namespace Backups.Tests.Cli;

public sealed class ArgumentsTests
{
    private static readonly Dictionary<string, string?> Values = new() { ["repo"] = "r", ["tag"] = null, ["stdin-filename"] = null };
    private static readonly Dictionary<string, string?> Switches = new() { ["json"] = null, ["stdin-from-command"] = null };

    [Fact]
    public void Reads_restic_style_command_lines()
    {
        var a = Arguments.Parse(["-r", "/repo", "backup", "--tag=a", "--tag", "b", "--json", "x", "--stdin-from-command", "--", "pg_dump", "--tag", "db"], Values, Switches);
        Assert.Equal("backup", a.Command);
        Assert.Equal("/repo", a.Value("repo"));
        Assert.Equal(["a", "b"], a.Values("tag"));
        Assert.True(a.Has("json"));
        Assert.Equal(["x"], a.Positional);
        Assert.Equal(["pg_dump", "--tag", "db"], a.AfterDashes);
    }

    [Theory]
    [InlineData("--nope")]
    [InlineData("--tag")]
    [InlineData("--json=1")]
    public void Rejects_unknown_flags_and_missing_values(string bad) =>
        Assert.Throws<UsageException>(() => Arguments.Parse(["snapshots", bad], Values, Switches));
}
