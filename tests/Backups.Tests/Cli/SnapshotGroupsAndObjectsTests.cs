using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Cli;

/// <summary>
/// A small repository of four snapshots (restic's and ours; two hosts, two paths in one, tags given out of order)
/// on which snapshots --group-by/--compact and find --blob/--tree/--pack are compared with restic 0.14.
/// </summary>
public sealed class ObjectsRepository : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    public RepositoryPair Repo { get; private set; } = null!;
    public List<string> Snapshots { get; } = [];
    public List<string> Packs { get; } = [];
    public string Root => _dir.Path;

    public async Task InitializeAsync()
    {
        Repo = new LocalStore(_dir).New();
        await Repo.Restic.RunOkAsync("init");
        var src = _dir.Combine("src");
        Directory.CreateDirectory(Path.Combine(src, "a", "b"));
        Directory.CreateDirectory(Path.Combine(src, "c"));
        File.WriteAllText(Path.Combine(src, "a", "x.txt"), "same");
        File.WriteAllText(Path.Combine(src, "c", "twin.txt"), "same");
        File.WriteAllText(Path.Combine(src, "a", "b", "y.txt"), "y");
        await Repo.Restic.RunOkAsync("backup", "-q", "--host", "h1", "--tag", "zeta,alpha", src, Path.Combine(src, "a"));
        File.WriteAllText(Path.Combine(src, "c", "new.txt"), "new");
        await Repo.Agent.RunOkAsync("backup", "--host", "h2", src);
        await Repo.Restic.RunOkAsync("backup", "-q", "--host", "h1", "--tag", "t", src);
        await Repo.Agent.RunOkAsync("backup", "--host", "a-much-longer-host-name", "--tag", "t", "--tag", "longer-tag-name", Path.Combine(src, "c"));
        foreach (var s in (await Repo.Restic.JsonAsync("snapshots")).EnumerateArray())
            Snapshots.Add(s.GetProperty("id").GetString()!);
        Packs.AddRange((await Repo.Restic.RunOkAsync("list", "packs")).StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>A stored blob, as JSON (a tree or a snapshot).</summary>
    public async Task<JsonElement> CatAsync(string what, string id) =>
        JsonDocument.Parse((await Repo.Restic.RunOkAsync("cat", what, id)).Stdout).RootElement.Clone();

    /// <summary>The subtree of the directory at the path (from "/") in a snapshot.</summary>
    public async Task<string> TreeAsync(string snapshot, params string[] path)
    {
        var tree = (await CatAsync("snapshot", snapshot)).GetProperty("tree").GetString()!;
        foreach (var name in path)
            tree = (await CatAsync("blob", tree)).GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("name").GetString() == name)
                .GetProperty("subtree").GetString()!;
        return tree;
    }
}

public sealed class SnapshotGroupsAndObjectsTests(ObjectsRepository shared) : IClassFixture<ObjectsRepository>
{
    private RepositoryPair Repo => shared.Repo;

    public static TheoryData<string[]> GroupingCases => new()
    {
        Array.Empty<string>(), new[] { "--compact" }, new[] { "--group-by", "host" }, new[] { "-g", "paths" }, new[] { "--group-by", "tags" },
        new[] { "--group-by", "host,paths,tags" }, new[] { "--group-by", "tags", "--compact" }, new[] { "--group-by", "host", "--latest", "1" },
    };

    /// <summary>restic prints its groups in Go's map order, which changes from run to run: compared as sets.</summary>
    [Theory]
    [MemberData(nameof(GroupingCases))]
    public async Task Snapshots_text_is_restics(string[] flags)
    {
        var ours = (await Repo.Agent.RunOkAsync(["snapshots", .. flags])).StdoutText;
        var restics = (await Repo.Restic.RunOkAsync(["snapshots", .. flags])).StdoutText;
        Assert.Equal(Groups(restics), Groups(ours));
        Assert.Contains("snapshots\n", ours);
    }

    [Theory]
    [MemberData(nameof(GroupingCases))]
    public async Task Snapshots_json_is_restics(string[] flags)
    {
        var ours = Normalized((await Repo.Agent.RunOkAsync(["snapshots", "--json", .. flags])).StdoutText);
        var restics = Normalized((await Repo.Restic.RunOkAsync(["snapshots", "--json", .. flags])).StdoutText);
        Assert.Equal(restics, ours);
    }

    [Fact]
    public async Task An_unknown_grouping_is_refused()
    {
        var r = await Repo.Agent.RunAsync(["snapshots", "--group-by", "hostname"]);
        Errors.Failure.AssertOneLine(r, Errors.Failure.Usage, "unknown grouping option: 'hostname'");
    }

    /// <summary>Each table with its heading, if any; together they must be the whole text.</summary>
    private static List<string> Groups(string text)
    {
        var tables = Regex.Matches(text, @"^(snapshots for [^\n]*\n)?ID [\s\S]*?^\d+ snapshots\n", RegexOptions.Multiline).Select(m => m.Value).ToList();
        Assert.Equal(text.Length, tables.Sum(t => t.Length));
        return [.. tables.Order(StringComparer.Ordinal)];
    }

    /// <summary>restic's JSON with what may differ taken out: our snapshots name their program, our times stop at
    /// 100 ns, and groups come in map order.</summary>
    private static List<string> Normalized(string json)
    {
        var list = JsonNode.Parse(json)!.AsArray();
        void Clean(JsonNode? s)
        {
            var o = s!.AsObject();
            o.Remove("program_version");
            // Cut at 100 ns, then without trailing zeros, as both print it (Go's RFC3339Nano trims them).
            o["time"] = Regex.Replace(o["time"]!.GetValue<string>(), @"\.(\d{1,7})\d*", m => m.Groups[1].Value.TrimEnd('0') is { Length: > 0 } f ? "." + f : "");
        }
        foreach (var item in list)
            if (item!["snapshots"] is JsonArray snapshots) foreach (var s in snapshots) Clean(s);
            else Clean(item);
        return [.. list.Select(i => i!.ToJsonString()).Order(StringComparer.Ordinal)];
    }

    /// <summary>The ids to look for: whole and short, several at once, a file's blob shared by two files, a pack.</summary>
    private async Task<string[][]> ObjectCasesAsync()
    {
        var firstOfH1 = shared.Snapshots[0];
        string[] root = shared.Root.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var a = await shared.TreeAsync(firstOfH1, [.. root, "src", "a"]);
        var src = await shared.TreeAsync(firstOfH1, [.. root, "src"]);
        var x = (await shared.CatAsync("blob", a)).GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("name").GetString() == "x.txt")
            .GetProperty("content")[0].GetString()!;
        return
        [
            ["--blob", x], ["--blob", x[..8]], ["--tree", a[..8], src], ["--pack", shared.Packs[0]], ["--pack", .. shared.Packs.Select(p => p[..8])],
        ];
    }

    /// <summary>Snapshot by snapshot (restic 0.14 walks all snapshots in the order their files happen to load), in
    /// a snapshot of restic's and one of ours; the text for the first case.</summary>
    [Fact]
    public async Task Find_objects_as_restic_does()
    {
        var found = 0;
        var cases = await ObjectCasesAsync();
        foreach (var args in cases)
            foreach (var snapshot in shared.Snapshots.Take(2))
            {
                string[] command = ["find", "--snapshot", snapshot[..8], .. args];
                var ours = await Repo.Agent.RunOkAsync([.. command, "--json"]);
                var restics = await Repo.Restic.RunOkAsync([.. command, "--json"]);
                Assert.Equal(Times(restics.StdoutText), Times(ours.StdoutText));
                found += JsonDocument.Parse(ours.Stdout).RootElement.GetArrayLength();
                if (args == cases[0])
                    Assert.Equal((await Repo.Restic.RunOkAsync(command)).StdoutText, (await Repo.Agent.RunOkAsync(command)).StdoutText);
            }
        Assert.True(found > 10, $"found only {found}");
    }

    [Fact]
    public async Task Find_an_unknown_pack_fails_as_restic_does()
    {
        var restic = await Repo.Restic.RunAsync(["find", "--pack", "deadbeef"]);
        var ours = await Repo.Agent.RunAsync(["find", "--pack", "deadbeef"]);
        Assert.NotEqual(0, restic.ExitCode);
        Assert.Contains("unable to find pack(s): [deadbeef]", restic.Stderr);
        Errors.Failure.AssertOneLine(ours, Errors.Failure.NotFound, "unable to find pack(s): [deadbeef]");
        Errors.Failure.AssertOneLine(await Repo.Agent.RunAsync(["find", "--blob", "--tree", "deadbeef"]), Errors.Failure.Usage, "several ID types");
    }

    /// <summary>Snapshot times cut to the 100 ns we keep of restic's nanoseconds, trailing zeros dropped as both print them.</summary>
    private static string Times(string json) =>
        Regex.Replace(json, @"(""time"":""[^""]*?)\.(\d{1,7})\d*", m => m.Groups[2].Value.TrimEnd('0') is { Length: > 0 } f ? $"{m.Groups[1].Value}.{f}" : m.Groups[1].Value);
}
