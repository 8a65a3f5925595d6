using System.Text.Json;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Archiving;

/// <summary>
/// A repeat backup takes unchanged files from its parent snapshot without opening them (as restic does); which
/// files the agent opened is read from strace's log of its openat calls.
/// </summary>
public sealed class ParentSnapshotTests : IDisposable
{
    private const int Files = 40;
    private readonly TempDir _dir = new();
    private readonly RepositoryPair _repo;
    private readonly string _src;

    public ParentSnapshotTests()
    {
        _repo = new LocalStore(_dir).New();
        _src = _dir.Combine("src");
        Directory.CreateDirectory(Path.Combine(_src, "sub"));
        for (var i = 0; i < Files; i++)
            File.WriteAllText(Path.Combine(_src, i % 2 == 0 ? "" : "sub", $"file-{i:D3}"), $"content of file {i} " + new string('x', i * 100));
    }

    public void Dispose() => _dir.Dispose();

    /// <summary>Backs up the source under strace; returns the names of the source files (not directories) the agent
    /// opened, and its summary.</summary>
    private async Task<(HashSet<string> Opened, JsonElement Summary)> BackupAsync(params string[] flags)
    {
        var log = _dir.Combine($"strace-{Guid.NewGuid():N}.log");
        var env = _repo.Agent.Environment();
        var r = await Processes.RunAsync("strace", ["-f", "-qq", "-e", "trace=open,openat,openat2", "-o", log, Agent.Program,
            "backup", "--json", _src, .. flags], env);
        r.EnsureSuccess("strace backup-agent backup");
        var opened = File.ReadLines(log).Where(l => !l.Contains("O_DIRECTORY")).Select(l => System.Text.RegularExpressions.Regex.Match(l, "\"(file-\\d+)\"")).Where(m => m.Success)
            .Select(m => m.Groups[1].Value).ToHashSet();
        var summary = r.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement).Single(e => e.GetProperty("message_type").GetString() == "summary");
        return (opened, summary);
    }

    private async Task AssertResticRestoresTheSourceAsync()
    {
        await _repo.Restic.CheckAsync(readData: true);
        var target = _dir.Combine($"restore-{Guid.NewGuid():N}");
        await _repo.Restic.RunOkAsync("restore", "latest", "--target", target);
        await FileTrees.AssertSameAsync(_src, target + _src);
    }

    [Fact]
    public async Task An_unchanged_tree_is_saved_again_without_opening_a_file()
    {
        await _repo.Agent.RunOkAsync("init");
        var (first, firstSummary) = await BackupAsync();
        Assert.Equal(Files, first.Count);

        var (second, summary) = await BackupAsync();

        Assert.Empty(second);
        Assert.Equal(Files, summary.GetProperty("files_unmodified").GetInt32());
        var snapshots = (await _repo.Restic.JsonAsync("snapshots")).EnumerateArray().OrderBy(s => s.GetProperty("time").GetDateTimeOffset()).ToList();
        Assert.Equal(firstSummary.GetProperty("snapshot_id").GetString(), snapshots[1].GetProperty("parent").GetString());
        await AssertResticRestoresTheSourceAsync();
    }

    [Fact]
    public async Task Changed_files_are_read_again_and_force_reads_everything()
    {
        await _repo.Agent.RunOkAsync("init");
        await BackupAsync();
        File.WriteAllText(Path.Combine(_src, "file-000"), "new content, same length?");                   // content and size
        File.SetLastWriteTimeUtc(Path.Combine(_src, "file-002"), DateTime.UtcNow.AddDays(-3));          // mtime alone
        File.Delete(Path.Combine(_src, "file-004"));
        Directory.CreateDirectory(Path.Combine(_src, "file-004"));                                       // a file became a directory
        File.WriteAllText(Path.Combine(_src, "file-004", "file-900"), "inside the new directory");
        (await Processes.RunAsync("ln", [Path.Combine(_src, "file-006"), Path.Combine(_src, "file-800")])).EnsureSuccess("ln"); // ctime

        var (changed, _) = await BackupAsync();

        Assert.Equal(["file-000", "file-002", "file-006", "file-800", "file-900"], changed.Order());
        await AssertResticRestoresTheSourceAsync();

        var (forced, _) = await BackupAsync("--force");
        Assert.Equal(Files + 1, forced.Count); // file-004 is a directory now; file-800 and file-900 are new
    }

    /// <summary>A backup's directory counts, from its JSON summary, and its snapshot's tree.</summary>
    private sealed record DirectoryCounts(long New, long Changed, long Unmodified, string Tree)
    {
        public (long New, long Changed, long Unmodified) Counts => (New, Changed, Unmodified);
    }

    /// <summary>Backs up `src` from <paramref name="parent"/> (a relative target: nothing outside the tree, such as
    /// /tmp's own times, enters the snapshot).</summary>
    private static async Task<DirectoryCounts> BackupSrcAsync(Func<string[], string, Task<ProcessResult>> run,
        Func<Task<JsonElement>> snapshots, string parent)
    {
        var r = (await run(["backup", "--json", "src"], parent)).EnsureSuccess("backup --json src");
        var summary = r.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement).Single(e => e.GetProperty("message_type").GetString() == "summary");
        // restic 0.14's summary names the snapshot by its short id.
        var id = summary.GetProperty("snapshot_id").GetString()!;
        var tree = (await snapshots()).EnumerateArray().Single(s => s.GetProperty("id").GetString()!.StartsWith(id, StringComparison.Ordinal))
            .GetProperty("tree").GetString()!;
        return new DirectoryCounts(summary.GetProperty("dirs_new").GetInt64(), summary.GetProperty("dirs_changed").GetInt64(),
            summary.GetProperty("dirs_unmodified").GetInt64(), tree);
    }

    [Fact]
    public async Task Unchanged_subtrees_keep_their_trees_and_directories_are_counted_as_restic_counts_them()
    {
        // Two copies of one tree, made alike: restic backs up one, the agent the other (each compares with its own
        // snapshots).
        string ours = _dir.Combine("ours"), theirs = _dir.Combine("theirs");
        foreach (var root in new[] { ours, theirs })
        {
            Directory.CreateDirectory(Path.Combine(root, "src", "a", "b", "c"));
            Directory.CreateDirectory(Path.Combine(root, "src", "d"));
            File.WriteAllText(Path.Combine(root, "src", "a", "b", "c", "deep"), "deep down");
            File.WriteAllText(Path.Combine(root, "src", "a", "x"), "beside b");
            File.WriteAllText(Path.Combine(root, "src", "d", "y"), "elsewhere");
            File.WriteAllText(Path.Combine(root, "src", "top"), "at the top");
        }
        await _repo.Agent.RunOkAsync("init");
        var restic = new Restic(_dir.Combine("restics"), Repositories.Password);
        await restic.RunOkAsync("init");
        Task<DirectoryCounts> Ours() => BackupSrcAsync((args, cwd) => _repo.Agent.RunAsync(args, workingDirectory: cwd), () => _repo.Restic.JsonAsync("snapshots"), ours);
        Task<DirectoryCounts> Theirs() => BackupSrcAsync((args, cwd) => restic.RunAsync(args, workingDirectory: cwd), () => restic.JsonAsync("snapshots"), theirs);

        var first = await Ours();
        Assert.Equal((5L, 0L, 0L), first.Counts);
        Assert.Equal(first.Counts, (await Theirs()).Counts);

        var repeat = await Ours();
        Assert.Equal((0L, 0L, 5L), repeat.Counts);
        Assert.Equal(first.Tree, repeat.Tree); // the root's tree itself, reused
        Assert.Equal(repeat.Counts, (await Theirs()).Counts);

        foreach (var root in new[] { ours, theirs }) File.WriteAllText(Path.Combine(root, "src", "a", "b", "c", "deep"), "changed deep down");
        var deep = await Ours();
        // c, b, a and src have new subtrees; d is unmodified.
        Assert.Equal((0L, 4L, 1L), deep.Counts);
        Assert.Equal(deep.Counts, (await Theirs()).Counts);

        await _repo.Restic.CheckAsync(readData: true);
        var target = _dir.Combine("restored");
        await _repo.Restic.RunOkAsync("restore", "latest", "--target", target);
        await FileTrees.AssertSameAsync(Path.Combine(ours, "src"), Path.Combine(target, "src"));
    }

    /// <summary>The tree id of the directory at <paramref name="path"/> below a root tree, read by restic.</summary>
    private static async Task<string> SubtreeAsync(Restic restic, string tree, params string[] path)
    {
        foreach (var name in path)
        {
            var nodes = JsonDocument.Parse((await restic.RunOkAsync("cat", "blob", tree)).Stdout).RootElement.GetProperty("nodes");
            tree = nodes.EnumerateArray().Single(n => n.GetProperty("name").GetString() == name).GetProperty("subtree").GetString()!;
        }
        return tree;
    }

    [Fact]
    public async Task A_directory_whose_nodes_equal_the_parents_takes_the_parents_tree_as_it_is()
    {
        // restic's tree JSON is not ours byte for byte, so only a reused tree has restic's id. The leaf directory c
        // holds one file whose node is restic's exactly, and each directory above holds one directory whose node is
        // restic's exactly (no link count, as restic 0.14 records none for directories): every tree up to the root
        // is restic's.
        var root = _dir.Combine("leaf");
        Directory.CreateDirectory(Path.Combine(root, "src", "a", "b", "c"));
        File.WriteAllText(Path.Combine(root, "src", "a", "b", "c", "deep"), "deep down");
        await _repo.Agent.RunOkAsync("init");
        (await _repo.Restic.RunAsync(["backup", "src"], workingDirectory: root)).EnsureSuccess("restic backup src");
        var theirs = (await _repo.Restic.JsonAsync("snapshots")).EnumerateArray().Single();

        (await _repo.Agent.RunAsync(["backup", "--parent", theirs.GetProperty("id").GetString()!, "src"], workingDirectory: root))
            .EnsureSuccess("backup --parent src");

        var ours = (await _repo.Restic.JsonAsync("snapshots")).EnumerateArray().Single(s => s.GetProperty("id").GetString() != theirs.GetProperty("id").GetString());
        string[] leaf = ["src", "a", "b", "c"];
        Assert.Equal(await SubtreeAsync(_repo.Restic, theirs.GetProperty("tree").GetString()!, leaf),
            await SubtreeAsync(_repo.Restic, ours.GetProperty("tree").GetString()!, leaf));
        Assert.Equal(theirs.GetProperty("tree").GetString(), ours.GetProperty("tree").GetString());
        await _repo.Restic.CheckAsync(readData: true);
    }

    [Fact]
    public async Task A_node_records_the_modification_time_as_its_access_time_unless_with_atime_is_given()
    {
        // As restic: a read moves a file's atime (relatime), and a recorded atime would then make its directory a
        // new tree every night.
        var file = Path.Combine(_src, "file-000");
        File.SetLastAccessTimeUtc(file, new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc));
        await _repo.Agent.RunOkAsync("init");
        async Task<(DateTimeOffset MTime, DateTimeOffset ATime)> RecordedAsync()
        {
            var node = (await _repo.Restic.RunOkAsync("ls", "--json", "latest")).StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => JsonDocument.Parse(l).RootElement).Single(e => e.TryGetProperty("name", out var n) && n.GetString() == "file-000");
            return (node.GetProperty("mtime").GetDateTimeOffset(), node.GetProperty("atime").GetDateTimeOffset());
        }

        await BackupAsync();
        var (mtime, atime) = await RecordedAsync();
        Assert.Equal(File.GetLastWriteTimeUtc(file), mtime.UtcDateTime);
        Assert.Equal(mtime, atime);

        await BackupAsync("--force", "--with-atime");
        Assert.Equal(new DateTimeOffset(2001, 2, 3, 4, 5, 6, TimeSpan.Zero), (await RecordedAsync()).ATime);
    }
}
