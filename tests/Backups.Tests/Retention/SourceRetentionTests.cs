using System.Text;
using System.Text.Json;
using Backups.Core.Backends;
using Backups.Core.Snapshots;
using Backups.Functions.Contracts;
using Backups.Functions.Handlers;
using Backups.Functions.Runtime;
using Backups.Tests.Support;
using Xunit;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Tests.Retention;

/// <summary>
/// Two years of three sources' nightly snapshots (tagged SOURCE,nightly as the nightly run tags them), a few
/// pre-deploy snapshots of app-db (app-db,pre-deploy) and a few untagged ones, made once: one real restic
/// backup, the rest written through the engine sharing its tree.
/// </summary>
public sealed class SourceRepository : IAsyncLifetime
{
    public static readonly string[] Sources = ["app-db", "logs", "cache"];
    private readonly TempDir _dir = new();

    public string Path => _dir.Combine("repo");
    public List<Snapshot> Snapshots { get; private set; } = [];

    public async Task InitializeAsync()
    {
        var restic = new Restic(Path, Repositories.Password, env: Env);
        await restic.RunOkAsync("init");
        using (var data = new TestData(TestData.Kind.Random, 10_000, seed: 7))
            (await restic.RunAsync(["backup", "--stdin", "--stdin-filename", "first.dump", "--time", "2020-01-01 00:00:00"], data)).EnsureSuccess("restic backup");

        await using var repo = await Repo.OpenAsync(RepositoryLocation.Open(Path), Repositories.Password);
        var tree = (await repo.LoadSnapshotsAsync())[0].Tree;
        var random = new Random(20261202);
        var end = DateTimeOffset.UtcNow.AddHours(-3);
        var shapes = new List<(DateTimeOffset Time, List<string>? Tags, string Path)>();
        foreach (var source in Sources)
        {
            // Nightly, with gaps of up to three nights, and now and then a second run the same night.
            for (var t = end.AddYears(-2); t < end; t = t.AddDays(random.Next(1, 4)))
            {
                shapes.Add((t.AddMinutes(random.Next(0, 50)), [source, "nightly"], $"/{source}.dump"));
                if (random.Next(6) == 0) shapes.Add((t.AddMinutes(random.Next(60, 600)), [source, "nightly"], $"/{source}.dump"));
            }
        }
        for (var n = 0; n < 8; n++) shapes.Add((end.AddDays(-random.Next(1, 200)).AddMinutes(random.Next(0, 1440)), ["app-db", "pre-deploy"], "/app-db.dump"));
        for (var n = 0; n < 20; n++) shapes.Add((end.AddDays(-random.Next(1, 700)).AddMinutes(random.Next(0, 1440)), null, "/srv"));
        await Parallel.ForEachAsync(shapes, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (s, ct) =>
            await repo.SaveSnapshotAsync(new Snapshot
            {
                Time = DateTimeOffset.FromUnixTimeSeconds(s.Time.ToUnixTimeSeconds()), Tree = tree, Paths = [s.Path], Hostname = "db-box",
                Username = "backup", Tags = s.Tags,
            }, ct));
        // The first (restic's own) snapshot goes: it is untagged and would be the global policy's oldest.
        Snapshots = [.. (await repo.LoadSnapshotsAsync()).Where(s => s.Paths[0] != "/first.dump")];
        await restic.RunOkAsync("forget", (await repo.LoadSnapshotsAsync()).Single(s => s.Paths[0] == "/first.dump").Id.ToString());
    }

    public static readonly Dictionary<string, string> Env = new() { ["TZ"] = "UTC" };

    /// <summary>A copy to forget and prune in for real.</summary>
    public string Copy(TempDir into) => FileTrees.CopyDirectory(Path, into.Combine("repo"));

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// Issue 16's acceptance for retention per source, through the Retention function's handler with the per-source
/// policies as the agent's run result carries them (snake_case): for each source the function keeps exactly what
/// `restic forget --tag SOURCE POLICY` keeps; pre-deploy snapshots are kept by their own policy beside the
/// nightly ones; untagged ones by the global policy; -1, "unlimited" and keep: all keep their whole bucket.
/// </summary>
public sealed class SourceRetentionTests(SourceRepository shared) : IClassFixture<SourceRepository>, IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    /// <summary>The workflow's default global policy.</summary>
    private static readonly string[] GlobalFlags = ["--keep-daily=7", "--keep-weekly=4", "--keep-monthly=3"];

    /// <summary>restic 0.14's selection and flags for each scope, and the same policies as the agent reports them.</summary>
    private static readonly (string Selection, string[] Flags)[] Scopes =
    [
        ("app-db,nightly", ["--keep-daily=14", "--keep-weekly=8", "--keep-monthly=24"]),
        ("logs", ["--keep-within-weekly=6m", "--keep-last=5", "--keep-yearly=3"]),
        ("cache", ["--keep-within=10d", "--keep-hourly=30"]),
        ("app-db,pre-deploy", ["--keep-within=90d"]),
        ("", GlobalFlags),
    ];

    private const string SourcePolicies = """
        { "sources": { "app-db": { "keep_daily": 14, "keep_weekly": 8, "keep_monthly": 24 },
                       "logs": { "keep_within_weekly": "6m", "keep_last": 5, "keep_yearly": 3 },
                       "cache": { "keep_within": "10d", "keep_hourly": 30 } },
          "tags": { "pre-deploy": { "keep_within": "90d" } } }
        """;

    private static async Task<RetentionResult> ApplyAsync(string repository, string json)
    {
        var environment = new FunctionEnvironment(new Dictionary<string, string>
        {
            ["RESTIC_REPOSITORY"] = repository, ["RESTIC_PASSWORD"] = Repositories.Password,
        });
        var output = await FunctionCatalog.All["retention"](environment).InvokeAsync(Encoding.UTF8.GetBytes(json), Functions.SnapshotHistory.Invocation());
        return JsonSerializer.Deserialize(output, FunctionJson.Default.RetentionResult)!;
    }

    private static HashSet<string> Kept(string resticJson) =>
        JsonDocument.Parse(resticJson).RootElement.EnumerateArray()
            .SelectMany(g => g.GetProperty("keep").EnumerateArray()).Select(s => s.GetProperty("id").GetString()!).ToHashSet();

    [Fact]
    public async Task Each_source_keeps_exactly_what_restic_forget_tag_SOURCE_keeps()
    {
        var repository = shared.Copy(_dir);
        var restic = new Restic(repository, Repositories.Password, env: SourceRepository.Env);
        var expected = new Dictionary<string, HashSet<string>>();
        foreach (var (selection, flags) in Scopes)
            expected[selection] = Kept((await restic.RunOkAsync(["forget", "--dry-run", "--json", "--tag", selection, .. flags])).StdoutText);
        Assert.All(expected, e => Assert.NotEmpty(e.Value));

        var result = await ApplyAsync(repository, $$"""
            { "policy": { "keepDaily": 7, "keepWeekly": 4, "keepMonthly": 3 }, "sourcePolicies": {{SourcePolicies}} }
            """);

        var byId = shared.Snapshots.ToDictionary(s => s.Id.ToString());
        string ScopeOf(string id) => byId[id].Tags switch
        {
            null => "",
            [var source, "nightly"] => source == "app-db" ? "app-db,nightly" : source,
            [var source, var tag] => $"{source},{tag}",
            _ => throw new InvalidOperationException(id),
        };
        foreach (var (selection, _) in Scopes)
            Assert.Equal(expected[selection].Order(), result.Kept.Where(id => ScopeOf(id) == selection).Order());
        Assert.Equal(shared.Snapshots.Count, result.Kept.Count + result.Removed.Count);
        Assert.True(result.Pruned);
        Assert.Equal(5, result.Scopes.Count);
        Assert.Contains(result.Scopes, s => s is { Source: "app-db", Tag: "pre-deploy", Policy: "keep all snapshots within 90d of the newest" });
        Assert.Contains(result.Scopes, s => s is { Source: null, Tag: null } && s.Policy == result.Policy);

        // What is left is exactly the union, and restic finds the repository sound.
        var left = (await restic.JsonAsync("snapshots")).EnumerateArray().Select(s => s.GetProperty("id").GetString()!);
        Assert.Equal(expected.Values.SelectMany(k => k).Order(), left.Order());
        await restic.CheckAsync(readData: true);
    }

    [Fact]
    public async Task Minus_one_unlimited_and_keep_all_keep_the_whole_bucket()
    {
        var result = await ApplyAsync(shared.Path, """
            { "policy": { "keepLast": 1 }, "dryRun": true,
              "sourcePolicies": { "sources": { "app-db": { "keep_monthly": "unlimited" }, "logs": { "keep_weekly": -1 }, "cache": { "keep": "all" } },
                                  "tags": { } } }
            """);

        List<Snapshot> Of(string source) => [.. shared.Snapshots.Where(s => s.Tags?[0] == source)];
        HashSet<string> NewestOfEach(IEnumerable<Snapshot> snapshots, Func<DateTimeOffset, int> bucket) =>
            snapshots.GroupBy(s => bucket(s.Time)).Select(g => g.MaxBy(s => s.Time)!.Id.ToString()).ToHashSet();
        var kept = result.Kept.ToHashSet();

        // app-db's pre-deploy snapshots share its policy now (no tag has its own): every month's newest, none other.
        var months = NewestOfEach(Of("app-db"), t => t.Year * 100 + t.Month);
        Assert.True(months.Count >= 24, $"{months.Count} months");
        Assert.Equal(months.Order(), Of("app-db").Select(s => s.Id.ToString()).Where(kept.Contains).Order());
        var weeks = NewestOfEach(Of("logs"), t => System.Globalization.ISOWeek.GetYear(t.DateTime) * 100 + System.Globalization.ISOWeek.GetWeekOfYear(t.DateTime));
        Assert.True(weeks.Count >= 100, $"{weeks.Count} weeks");
        Assert.Equal(weeks.Order(), Of("logs").Select(s => s.Id.ToString()).Where(kept.Contains).Order());
        Assert.All(Of("cache"), s => Assert.Contains(s.Id.ToString(), kept));
        Assert.Contains(result.Scopes, s => s is { Source: "app-db", Policy: "keep all monthly snapshots" });
        Assert.Contains(result.Scopes, s => s is { Source: "logs", Policy: "keep all weekly snapshots" });
        Assert.Contains(result.Scopes, s => s is { Source: "cache", Removed: 0 });
        // The untagged ones still fall to the global policy.
        Assert.Single(shared.Snapshots.Where(s => s.Tags == null), s => kept.Contains(s.Id.ToString()));
    }
}
