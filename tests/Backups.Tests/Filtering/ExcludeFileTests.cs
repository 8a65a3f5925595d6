using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Filtering;

/// <summary>
/// backup --exclude-file as restic 0.14's: the same tree backed up by restic and by the agent with the same file
/// (comments, blank lines, spaces around a pattern, an environment variable) holds the same paths, and neither
/// snapshot records the file's patterns.
/// </summary>
public sealed class ExcludeFileTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Exclude_file_leaves_out_what_restics_does()
    {
        var src = Directory.CreateDirectory(_dir.Combine("src")).FullName;
        foreach (var file in new[] { "a.log", "b.txt", "sub/c.log", "sub/d.txt", "cache/e.txt", "keep/cache.txt", "$odd.txt" })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(src, file))!);
            File.WriteAllText(Path.Combine(src, file), file);
        }
        var patterns = _dir.Combine("excludes");
        File.WriteAllText(patterns, "# build output\n\n   *.log  \n${SKIPPED_DIR}\n$$odd.txt\n");
        var env = new Dictionary<string, string> { ["SKIPPED_DIR"] = "cache" };
        var repo = new LocalStore(_dir).New();
        var agent = new Agent(repo.Repository, Repositories.Password, env: env);
        var restic = new Restic(repo.Repository, Repositories.Password, env: env);
        await agent.RunOkAsync("init");

        await restic.RunOkAsync("backup", "--tag", "restic", "--exclude-file", patterns, "--exclude", "*.none", src);
        await agent.RunOkAsync("backup", "--tag", "agent", "--exclude-file", patterns, "--exclude", "*.none", src);

        async Task<List<string>> Paths(string tag)
        {
            var r = await restic.RunOkAsync("ls", "latest", "--tag", tag);
            return [.. r.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Order(StringComparer.Ordinal)];
        }
        var expected = await Paths("restic");
        Assert.Contains(expected, p => p.EndsWith("/keep/cache.txt"));
        Assert.DoesNotContain(expected, p => p.EndsWith(".log") || p.EndsWith("/cache") || p.EndsWith("odd.txt"));
        Assert.Equal(expected, await Paths("agent"));

        var snapshots = (await restic.JsonAsync("snapshots")).EnumerateArray().ToList();
        Assert.All(snapshots, s => Assert.Equal(["*.none"], s.GetProperty("excludes").EnumerateArray().Select(e => e.GetString())));
    }

    [Fact]
    public async Task A_missing_exclude_file_is_a_usage_error()
    {
        var repo = new LocalStore(_dir).New();
        await repo.Agent.RunOkAsync("init");
        var r = await repo.Agent.RunAsync(["backup", "--exclude-file", _dir.Combine("nope"), _dir.Path]);
        Backups.Tests.Errors.Failure.AssertOneLine(r, Backups.Tests.Errors.Failure.Usage, "failed to read patterns from file");
        Assert.Equal(0, (await repo.Restic.JsonAsync("snapshots")).GetArrayLength());
    }
}
