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
}
