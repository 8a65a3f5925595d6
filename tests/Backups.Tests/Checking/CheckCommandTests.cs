using System.Text.Json;
using Backups.Core.Locks;
using Backups.Tests.Errors;
using Xunit;
using static Backups.Tests.Checking.CheckTools;

namespace Backups.Tests.Checking;

/// <summary>`backup-agent check` as people and scripts run it: exit 0 when clean, 15 with one line on stderr when
/// damaged, 11 when locked exclusively, 2 for a wrong flag; --json gives the report.</summary>
public sealed class CheckCommandTests(CheckedRepositories repositories) : IClassFixture<CheckedRepositories>
{
    [Fact]
    public async Task Healthy_repository_exits_0()
    {
        var repo = repositories.Copy(Writer.Restic);
        var r = await repo.Agent.RunOkAsync("check", "--read-data");
        Assert.Equal("", r.Stderr);
        Assert.Contains("no errors were found", r.StdoutText);
        Assert.DoesNotContain("error:", r.StdoutText);
        Assert.Empty(RepositoryFiles.Ids(repo.Repository, "locks"));
    }

    [Fact]
    public async Task Damage_exits_15_with_one_line_naming_the_pack()
    {
        var repo = repositories.Copy(Writer.Ours);
        var (_, pack) = (await PacksAsync(repo.Repository, "data"))[0];
        RepositoryFiles.FlipByte(PackPath(repo.Repository, pack.Id), pack.Blobs[0].Offset + 100);

        Assert.Equal(0, (await repo.Agent.RunAsync(["check"])).ExitCode);
        var r = await repo.Agent.RunAsync(["check", "--read-data"]);
        Failure.AssertOneLine(r, Failure.Damaged, PackName(pack.Id));
        Assert.Contains($"error: data blob {pack.Blobs[0].Id} in {PackName(pack.Id)} is damaged", r.StdoutText);

        var json = await repo.Agent.RunAsync(["--json", "check", "--read-data"]);
        Assert.Equal(Failure.Damaged, json.ExitCode);
        var report = JsonDocument.Parse(json.Stdout).RootElement;
        Assert.True(report.GetProperty("damaged").GetBoolean());
        Assert.Contains(report.GetProperty("problems").EnumerateArray(),
            p => p.GetProperty("file").GetString() == PackName(pack.Id) && p.GetProperty("blob").GetString() == pack.Blobs[0].Id.ToString()
                 && p.GetProperty("severity").GetString() == "Error");
    }

    [Fact]
    public async Task Slices_read_every_pack_once()
    {
        var repo = repositories.Copy(Writer.Restic);
        var packs = 0;
        var read = 0;
        for (var n = 1; n <= 3; n++)
        {
            var r = await repo.Agent.RunOkAsync("--json", "check", "--read-data-slice", $"{n}/3");
            var report = JsonDocument.Parse(r.Stdout).RootElement;
            packs = report.GetProperty("packs").GetInt32();
            read += report.GetProperty("packs_read").GetInt32();
            Assert.Equal($"slice {n} of 3", report.GetProperty("read_selection").GetString());
        }
        Assert.Equal(packs, read);
    }

    [Fact]
    public async Task Exclusive_lock_exits_11()
    {
        var repo = repositories.Copy(Writer.Ours);
        await WriteLockAsync(repo.Repository, new LockFile { Time = DateTimeOffset.Now, Exclusive = true, Hostname = "prune-box", Pid = 4242 });
        Failure.AssertOneLine(await repo.Agent.RunAsync(["check"]), 11, "locked exclusively");
    }

    [Theory]
    [InlineData("--read-data-subset", "0/3")]
    [InlineData("--read-data-subset", "101%")]
    [InlineData("--read-data-slice", "4/3")]
    [InlineData("--read-data-rotate", "0")]
    [InlineData("--read-data-budget", "soon")]
    public async Task Wrong_selection_is_a_usage_error(string flag, string value)
    {
        var repo = repositories.Copy(Writer.Ours);
        Failure.AssertOneLine(await repo.Agent.RunAsync(["check", flag, value]), Failure.Usage, flag);
    }

    [Fact]
    public async Task Two_selections_are_a_usage_error()
    {
        var repo = repositories.Copy(Writer.Ours);
        Failure.AssertOneLine(await repo.Agent.RunAsync(["check", "--read-data", "--read-data-slice", "1/2"]), Failure.Usage, "only one");
    }
}
