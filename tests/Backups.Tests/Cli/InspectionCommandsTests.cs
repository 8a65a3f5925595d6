using System.Text.Json;
using System.Text.Json.Nodes;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Cli;

/// <summary>stats, diff, find and snapshots agree with restic 0.14 on the same repository, number for number and
/// line for line.</summary>
public sealed class InspectionCommandsTests(InspectionRepository shared) : IClassFixture<InspectionRepository>
{
    private RepositoryPair Repo => shared.Repo;

    public static TheoryData<string, string> StatsCases()
    {
        var cases = new TheoryData<string, string>();
        foreach (var mode in new[] { "restore-size", "files-by-contents", "raw-data", "blobs-per-file" })
            foreach (var which in new[] { "all", "latest", "first-two" })
                cases.Add(mode, which);
        return cases;
    }

    [Theory]
    [MemberData(nameof(StatsCases))]
    public async Task Stats_equal_restics(string mode, string which)
    {
        string[] ids = which switch { "all" => [], "latest" => ["latest"], _ => [shared.Ids[0][..8], shared.Ids[1]] };
        var ours = InspectionRepository.Parse(await Repo.Agent.RunOkAsync(["stats", "--mode", mode, "--json", .. ids]));
        var restics = await Repo.Restic.JsonAsync(["stats", "--mode", mode, .. ids]);
        Assert.Equal(restics.GetRawText(), ours.GetRawText());
        Assert.True(ours.GetProperty("total_size").GetUInt64() > 0);
    }

    [Fact]
    public async Task Stats_text_and_an_unknown_mode()
    {
        var r = await Repo.Agent.RunOkAsync("stats", "--mode", "raw-data");
        var restic = await Repo.Restic.RunOkAsync("stats", "--mode", "raw-data");
        Assert.Equal(restic.StdoutText, r.StdoutText);
        var bad = await Repo.Agent.RunAsync(["stats", "--mode", "bogus"]);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("restore-size", bad.Stderr);
    }

    public static TheoryData<int, int, string[]> DiffCases => new()
    {
        { 0, 1, [] }, { 1, 2, [] }, { 0, 2, ["--metadata"] }, { 2, 0, ["--metadata"] }, { 0, 1, ["--json"] }, { 0, 2, ["--json", "--metadata"] },
    };

    [Theory]
    [MemberData(nameof(DiffCases))]
    public async Task Diff_prints_restics_lines(int from, int to, string[] flags)
    {
        string[] args = ["diff", .. flags, shared.Ids[from][..8], shared.Ids[to][..8]];
        var ours = await Repo.Agent.RunOkAsync(args);
        var restics = await Repo.Restic.RunOkAsync(args);
        Assert.Equal(restics.StdoutText, ours.StdoutText);
        Assert.Matches(flags.Contains("--json") ? "\"modifier\":\"M\"" : "\nM +/", ours.StdoutText);
    }

    [Theory]
    [InlineData("*.txt")]
    [InlineData("[xy]*")]
    [InlineData("b")]
    [InlineData("/**/c/*")]
    [InlineData("Y.SQL", "-i")]
    public async Task Find_lists_restics_matches(string pattern, string? flag = null)
    {
        string[] args = flag == null ? ["find", "--json", pattern] : ["find", "--json", flag, pattern];
        var ours = Matches(InspectionRepository.Parse(await Repo.Agent.RunOkAsync(args)));
        var restics = Matches(InspectionRepository.Parse(await Repo.Restic.RunOkAsync(args)));
        // restic 0.14 walks the snapshots in the order their files happen to load: compare snapshot by snapshot.
        Assert.Equal(restics.Keys.Order(), ours.Keys.Order());
        foreach (var (snapshot, matches) in restics) Assert.Equal(matches, ours[snapshot]);
        Assert.NotEmpty(ours);
    }

    [Fact]
    public async Task Find_in_one_snapshot_lists_paths()
    {
        var ours = await Repo.Agent.RunOkAsync("find", "--snapshot", shared.Ids[1][..8], "*.txt");
        var restics = await Repo.Restic.RunOkAsync("find", "--snapshot", shared.Ids[1][..8], "*.txt");
        Assert.Equal(restics.StdoutText, ours.StdoutText);
        Assert.Contains("/src/c/new.txt\n", ours.StdoutText);
    }

    private static Dictionary<string, string> Matches(JsonElement found) =>
        found.EnumerateArray().ToDictionary(s => s.GetProperty("snapshot").GetString()!,
            s => s.GetProperty("hits").GetInt32() + " " + s.GetProperty("matches").GetRawText());

    [Theory]
    [InlineData("--latest", "1")]
    [InlineData("--latest", "2")]
    [InlineData("--host", "h1")]
    [InlineData("--tag", "t1")]
    public async Task Snapshots_select_as_restics(string flag, string value)
    {
        var ours = InspectionRepository.Parse(await Repo.Agent.RunOkAsync("snapshots", "--json", flag, value));
        var restics = await Repo.Restic.JsonAsync("snapshots", flag, value);
        Assert.Equal(Ids(restics), Ids(ours));
        Assert.NotEmpty(Ids(ours));
    }

    [Fact]
    public async Task Snapshots_named_by_id_list_only_those()
    {
        var ours = InspectionRepository.Parse(await Repo.Agent.RunOkAsync("snapshots", "--json", shared.Ids[1][..8], "latest"));
        var restics = await Repo.Restic.JsonAsync("snapshots", shared.Ids[1][..8], "latest");
        Assert.Equal(Ids(restics), Ids(ours));
        Assert.Equal([shared.Ids[1], shared.Ids[2]], Ids(ours));
        // The stored fields as restic prints them (of a snapshot restic wrote: ours also name their program_version);
        // the time to .NET's 100 ns.
        var (resticNode, ourNode) = (JsonNode.Parse(restics[1].GetRawText())!.AsObject(), JsonNode.Parse(ours[1].GetRawText())!.AsObject());
        Assert.StartsWith(ourNode["time"]!.GetValue<string>().TrimEnd('Z'), resticNode["time"]!.GetValue<string>());
        resticNode.Remove("time");
        ourNode.Remove("time");
        Assert.True(JsonNode.DeepEquals(resticNode, ourNode), $"restic: {resticNode}\nours:   {ourNode}");
        var missing = await Repo.Agent.RunAsync(["snapshots", "deadbeef"]);
        Assert.Equal(14, missing.ExitCode);
    }

    private static List<string> Ids(JsonElement list) => list.EnumerateArray().Select(s => s.GetProperty("id").GetString()!).ToList();

    [Fact]
    public async Task Version_names_the_commit_and_the_build()
    {
        var r = await Processes.RunAsync(Agent.Program, ["version"]);
        Assert.Equal(0, r.ExitCode);
        Assert.Matches(@"^backup-agent \d+\.\d+\.\d+ \(commit [0-9a-f]{8}, built \d{4}-\d\d-\d\d\) compiled with \.NET \S+ on linux/\w+\n$", r.StdoutText);
        var json = JsonDocument.Parse((await Processes.RunAsync(Agent.Program, ["version", "--json"])).Stdout).RootElement;
        Assert.Matches("^[0-9a-f]{40}$", json.GetProperty("commit").GetString());
    }
}
