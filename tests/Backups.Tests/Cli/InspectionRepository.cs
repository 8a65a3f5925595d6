using System.Text.Json;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Cli;

/// <summary>
/// One small repository with three snapshots of a changing tree (restic, backup-agent, restic again on another
/// host and tag): files changed, removed, added, a hard link, a symlink turned into a directory, a mode change.
/// The read-only commands are compared with restic on it.
/// </summary>
public sealed class InspectionRepository : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    public RepositoryPair Repo { get; private set; } = null!;
    public string Source => _dir.Combine("src");
    /// <summary>The snapshots' ids, oldest first.</summary>
    public List<string> Ids { get; } = [];

    public async Task InitializeAsync()
    {
        Repo = new LocalStore(_dir).New();
        await Repo.Restic.RunOkAsync("init");
        Directory.CreateDirectory(Path.Combine(Source, "a", "b"));
        Directory.CreateDirectory(Path.Combine(Source, "c"));
        Directory.CreateDirectory(Path.Combine(Source, "empty"));
        File.WriteAllText(Path.Combine(Source, "a", "x.txt"), "hello");
        File.WriteAllText(Path.Combine(Source, "a", "b", "y.sql"), "select 1;");
        using (var big = File.Create(Path.Combine(Source, "c", "big.bin")))
        using (var data = new TestData(TestData.Kind.Random, 1_500_000, seed: 7))
            await data.CopyToAsync(big);
        File.WriteAllText(Path.Combine(Source, "c", "x2.txt"), "hello");
        File.CreateSymbolicLink(Path.Combine(Source, "c", "link"), "../a");
        (await Processes.RunAsync("ln", [Path.Combine(Source, "a", "x.txt"), Path.Combine(Source, "a", "hl.txt")])).EnsureSuccess("ln");
        await Repo.Restic.RunOkAsync("backup", "-q", "--host", "h1", Source);

        File.WriteAllText(Path.Combine(Source, "a", "x.txt"), "changed");
        File.Delete(Path.Combine(Source, "c", "x2.txt"));
        File.WriteAllText(Path.Combine(Source, "c", "new.txt"), "new");
        File.SetUnixFileMode(Path.Combine(Source, "a", "b", "y.sql"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Delete(Path.Combine(Source, "c", "link"));
        Directory.CreateDirectory(Path.Combine(Source, "c", "link"));
        await Repo.Agent.RunOkAsync("backup", "--host", "h1", Source);

        File.AppendAllText(Path.Combine(Source, "a", "b", "y.sql"), " -- more");
        await Repo.Restic.RunOkAsync("backup", "-q", "--host", "h2", "--tag", "t1", Source);

        foreach (var s in (await Repo.Restic.JsonAsync("snapshots")).EnumerateArray().OrderBy(s => s.GetProperty("time").GetString()))
            Ids.Add(s.GetProperty("id").GetString()!);
        Assert.Equal(3, Ids.Count);
    }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }

    public static JsonElement Parse(ProcessResult r) => JsonDocument.Parse(r.Stdout).RootElement.Clone();
}
