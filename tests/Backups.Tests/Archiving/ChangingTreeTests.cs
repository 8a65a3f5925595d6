using System.Diagnostics;
using System.Text.Json;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Archiving;

/// <summary>
/// A tree that changes while it is backed up: entries that vanish are warnings (exit 3, the snapshot saved without
/// them), and an entry swapped for a symlink or a FIFO is stored as what it became, never read through. The walk
/// reads one file at a time in name order, so the entries after a large first file are changed while that file is
/// open (seen in /proc), after their directory was listed and before they are looked at.
/// </summary>
public sealed class ChangingTreeTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    private string CreateSource()
    {
        var src = _dir.Combine("src");
        Directory.CreateDirectory(Path.Combine(src, "z-dir"));
        // Sparse: a long read that costs no disk.
        using (var big = File.Create(Path.Combine(src, "a-big"))) big.SetLength(1L << 30);
        foreach (var name in new[] { "z-gone", "z-dir/inner", "z-swap", "z-fifo", "z-kept" })
            File.WriteAllText(Path.Combine(src, name), name);
        return src;
    }

    private void Change(string src)
    {
        File.Delete(Path.Combine(src, "z-gone"));
        Directory.Delete(Path.Combine(src, "z-dir"), recursive: true);
        File.Delete(Path.Combine(src, "z-swap"));
        File.CreateSymbolicLink(Path.Combine(src, "z-swap"), "/etc/passwd");
        File.Delete(Path.Combine(src, "z-fifo"));
        Process.Start("mkfifo", [Path.Combine(src, "z-fifo")]).WaitForExit();
    }

    /// <summary>Runs the agent; changes the source once it holds a-big open. Fails if that moment was missed.</summary>
    private async Task<(int ExitCode, string Stdout, string Stderr)> RunChangingAsync(string src, Dictionary<string, string> env, params string[] args)
    {
        var psi = new ProcessStartInfo(Agent.Program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        var big = Path.Combine(src, "a-big");
        var changed = false;
        while (!p.HasExited && !changed)
        {
            if (OpenFiles(p.Id).Contains(big))
            {
                Change(src);
                changed = OpenFiles(p.Id).Contains(big);
            }
            else await Task.Delay(1);
        }
        await p.WaitForExitAsync();
        Assert.True(changed, $"the source was not changed while a-big was read: {await stderr}");
        return (p.ExitCode, await stdout, await stderr);
    }

    private static List<string> OpenFiles(int pid)
    {
        try
        {
            return Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd").Select(fd => new FileInfo(fd).LinkTarget ?? "").ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return []; // the process ended or a descriptor closed while it was listed
        }
    }

    private static async Task AssertSnapshotHoldsTheChangedTreeAsync(RepositoryPair repo, string src)
    {
        await repo.Restic.CheckAsync(readData: true);
        var nodes = (await repo.Restic.RunOkAsync("ls", "--json", "latest")).StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement).Where(e => e.GetProperty("struct_type").GetString() == "node")
            .ToDictionary(e => e.GetProperty("path").GetString()!, e => e.GetProperty("type").GetString());
        Assert.Equal("file", nodes[src + "/a-big"]);
        Assert.Equal("file", nodes[src + "/z-kept"]);
        Assert.Equal("symlink", nodes[src + "/z-swap"]);
        Assert.Equal("fifo", nodes[src + "/z-fifo"]);
        Assert.False(nodes.ContainsKey(src + "/z-gone"));
        Assert.False(nodes.ContainsKey(src + "/z-dir"));
    }

    [Fact]
    public async Task Backup_of_a_changing_tree_warns_saves_the_rest_and_exits_3()
    {
        var src = CreateSource();
        var repo = new LocalStore(_dir).New();
        await repo.Agent.RunOkAsync("init");

        var (code, _, stderr) = await RunChangingAsync(src, repo.Agent.Environment(), "backup", src);

        Assert.Equal(3, code);
        Assert.Contains("z-gone", stderr);
        Assert.Contains("z-dir", stderr);
        await AssertSnapshotHoldsTheChangedTreeAsync(repo, src);
    }

    [Fact]
    public async Task A_nightly_paths_source_that_changes_succeeds_with_its_warnings_in_the_result()
    {
        var src = CreateSource();
        var repo = new LocalStore(_dir).New();
        await repo.Agent.RunOkAsync("init");
        var config = _dir.Combine("config.json");
        File.WriteAllText(config, $$"""
            { "repository": "{{repo.Repository}}", "password": { "value": "{{Repositories.Password}}" },
              "sources": [ { "name": "files", "kind": "paths", "paths": ["{{src}}"] } ] }
            """);

        var (code, stdout, _) = await RunChangingAsync(src, [], "run", "--config", config, "--json");

        Assert.Equal(3, code);
        var result = JsonDocument.Parse(stdout).RootElement;
        Assert.True(result.GetProperty("succeeded").GetBoolean());
        var source = result.GetProperty("sources")[0];
        Assert.True(source.GetProperty("succeeded").GetBoolean());
        Assert.NotNull(source.GetProperty("snapshot_id").GetString());
        var warnings = source.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()!).ToList();
        Assert.Contains(warnings, w => w.Contains("z-gone"));
        await AssertSnapshotHoldsTheChangedTreeAsync(repo, src);
    }
}
