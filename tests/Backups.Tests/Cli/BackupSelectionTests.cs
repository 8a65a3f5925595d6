using System.Text;
using System.Text.Json;
using Backups.Tests.Errors;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Cli;

/// <summary>
/// backup's selection flags pick the same files as restic 0.14's own backup of the same tree (`restic ls` of
/// both snapshots compared), and --dry-run writes nothing.
/// </summary>
public sealed class BackupSelectionTests : IAsyncLifetime
{
    private const string CacheSignature = "Signature: 8a477f597d28d172789f06886806bc55";
    private readonly TempDir _dir = new();
    private RepositoryPair _repo = null!;
    private string Source => _dir.Combine("src");

    public async Task InitializeAsync()
    {
        _repo = new LocalStore(_dir).New();
        await _repo.Restic.RunOkAsync("init");
        foreach (var dir in new[] { "a/b", "Logs", "cache/deep", "tagged/sub", "badtag", "c d" })
            Directory.CreateDirectory(Path.Combine(Source, dir));
        foreach (var (file, text) in new[]
                 {
                     ("a/x.txt", "x"), ("a/X.TXT", "X"), ("a/b/y.sql", "y"), ("a/b/Notes.Md", "n"), ("Logs/app.LOG", "l"),
                     ("cache/data", "c"), ("cache/deep/more", "m"), ("cache/CACHEDIR.TAG", CacheSignature + "\n# a cache"),
                     ("tagged/.nobackup", ""), ("tagged/sub/u", "u"), ("tagged/keep", "k"), ("badtag/CACHEDIR.TAG", "not a signature"),
                     ("badtag/kept", "b"), ("c d/space name", "s"), ("top", "t"),
                 })
            await File.WriteAllTextAsync(Path.Combine(Source, file), text);
    }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }

    private string Write(string name, string text)
    {
        var path = _dir.Combine(name);
        File.WriteAllText(path, text);
        return path;
    }

    public static TheoryData<string> Cases => new()
    {
        "iexclude", "iexclude-file", "exclude-if-present", "exclude-if-present-header", "exclude-caches",
        "files-from", "files-from-verbatim", "files-from-raw", "files-from-and-args",
    };

    private string[] Flags(string name) => name switch
    {
        "iexclude" => ["--iexclude", "*.TXT", "--iexclude", "logs", "--exclude", "*.md"],
        "iexclude-file" => ["--iexclude-file", Write("iexcludes", "# comment\n\n  *.txt  \n/**/B/*.SQL\n")],
        "exclude-if-present" => ["--exclude-if-present", ".nobackup"],
        "exclude-if-present-header" => ["--exclude-if-present", "CACHEDIR.TAG:" + CacheSignature],
        "exclude-caches" => ["--exclude-caches", "--exclude-if-present", ".nobackup"],
        "files-from" => ["--files-from", Write("list", $"# the sources\n{Source}/a/*.txt\n  {Source}/c d  \n{Source}/nothing*\n{Source}/cache/[cd]*\r\n")],
        "files-from-verbatim" => ["--files-from-verbatim", Write("verbatim", $"{Source}/c d\n\n{Source}/top\n{Source}/missing\n")],
        "files-from-raw" => ["--files-from-raw", Write("raw", $"{Source}/a/b\0{Source}/c d/space name\0")],
        "files-from-and-args" => ["--files-from", Write("list2", $"{Source}/top\n"), $"{Source}/tagged"],
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Selects_what_restic_selects(string name)
    {
        var flags = Flags(name);
        string[] targets = name.StartsWith("files-from") ? [] : [Source];
        var ours = SnapshotId(await _repo.Agent.RunOkAsync(["backup", "--json", .. flags, .. targets]));
        var restics = SnapshotId(await _repo.Restic.RunOkAsync(["backup", "--json", .. flags, .. targets]));
        var ourFiles = await ListAsync(ours);
        Assert.Equal(await ListAsync(restics), ourFiles);
        Assert.NotEmpty(ourFiles);
        await _repo.Restic.CheckAsync(readData: false);
    }

    /// <summary>--one-file-system in a mount namespace of its own, with a tmpfs mounted inside the tree: the mount
    /// point is kept, empty, as restic keeps it.</summary>
    [Fact]
    public async Task One_file_system_stops_at_a_mount_point_as_restic_does()
    {
        var mount = Path.Combine(Source, "a", "mnt");
        Directory.CreateDirectory(mount);
        string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";
        var script = $"""
            set -e
            mount -t tmpfs none {Quote(mount)}
            mkdir {Quote(mount)}/inner && echo hidden > {Quote(mount)}/inner/file
            {Quote(Agent.Program)} backup --json -x {Quote(Source)} | tail -n 1
            restic --no-cache backup --json -x {Quote(Source)} | tail -n 1
            {Quote(Agent.Program)} backup --json {Quote(Source)} | tail -n 1
            """;
        var r = await Processes.RunAsync("unshare", ["-rm", "sh", "-c", script], _repo.Agent.Environment());
        Assert.True(r.ExitCode == 0, $"unshare -rm (a mount namespace) is needed for this test: {r.Stderr}");
        var ids = r.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("snapshot_id").GetString()!).ToList();
        var ours = await ListAsync(ids[0]);
        Assert.Equal(await ListAsync(ids[1]), ours);
        Assert.Contains("/src/a/mnt", ours);
        Assert.DoesNotContain("/src/a/mnt/inner", ours);
        Assert.Contains("/src/a/mnt/inner/file", await ListAsync(ids[2]));
    }

    [Fact]
    public async Task Dry_run_reads_everything_and_writes_nothing()
    {
        await _repo.Restic.RunOkAsync("backup", "-q", Source);
        await File.WriteAllTextAsync(Path.Combine(Source, "a", "new.bin"), new string('z', 50_000) + Guid.NewGuid());
        var before = RepositoryFiles.Snapshot(_repo.Repository);

        var json = await _repo.Agent.RunOkAsync("backup", "--dry-run", "--json", Source);
        var text = await _repo.Agent.RunOkAsync("backup", "-n", Source);

        RepositoryFiles.AssertUnchanged(before, _repo.Repository);
        var summary = JsonDocument.Parse(json.StdoutText.Trim().Split('\n')[^1]).RootElement;
        Assert.Equal("summary", summary.GetProperty("message_type").GetString());
        Assert.True(summary.GetProperty("dry_run").GetBoolean());
        Assert.True(summary.GetProperty("data_added").GetInt64() >= 50_000);
        // restic's own dry run says the same of this tree: something would be added, and it leaves the files too.
        var restics = JsonDocument.Parse((await _repo.Restic.RunOkAsync("backup", "--dry-run", "--json", Source)).StdoutText.Trim().Split('\n')[^1]).RootElement;
        Assert.True(restics.GetProperty("dry_run").GetBoolean());
        Assert.Equal(restics.GetProperty("total_files_processed").GetInt64(), summary.GetProperty("total_files_processed").GetInt64());
        RepositoryFiles.AssertUnchanged(before, _repo.Repository);
        Assert.Contains("Would add to the repository:", text.StdoutText + text.Stderr);
        Assert.DoesNotContain("saved", text.StdoutText + text.Stderr);
        Assert.Single((await _repo.Restic.JsonAsync("snapshots")).EnumerateArray());
    }

    [Fact]
    public async Task Bad_selection_flags_are_usage_errors_naming_the_flag()
    {
        var r = await _repo.Agent.RunAsync(["backup", "--exclude-if-present", ":header", Source]);
        Failure.AssertOneLine(r, Failure.Usage, "--exclude-if-present");
        r = await _repo.Agent.RunAsync(["backup", "--files-from-raw", Write("unterminated", "/a\0/b"), Source]);
        Failure.AssertOneLine(r, Failure.Usage, "trailing zero byte missing");
        r = await _repo.Agent.RunAsync(["backup", "--stdin", "--files-from", Write("l", "/x\n")]);
        Failure.AssertOneLine(r, Failure.Usage, "--stdin");
    }

    private static string SnapshotId(ProcessResult backup) =>
        JsonDocument.Parse(backup.StdoutText.Trim().Split('\n')[^1]).RootElement.GetProperty("snapshot_id").GetString()!;

    /// <summary>`restic ls` of a snapshot, paths relative to the temporary directory.</summary>
    private async Task<List<string>> ListAsync(string snapshot)
    {
        var r = await _repo.Restic.RunOkAsync("ls", snapshot);
        return [.. r.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Replace(_dir.Path, ""))];
    }
}
