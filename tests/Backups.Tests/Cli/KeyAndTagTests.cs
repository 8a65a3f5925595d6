using System.Text.Json;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Cli;

/// <summary>key and tag change a repository as restic would: restic opens it with the keys left and reads the
/// tags back, and restic check still passes.</summary>
public sealed class KeyAndTagTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private async Task<RepositoryPair> RepositoryWithSnapshotsAsync(int count)
    {
        var repo = new LocalStore(_dir).New();
        await repo.Agent.RunOkAsync("init");
        for (var seed = 1; seed <= count; seed++)
        {
            using var input = new TestData(TestData.Kind.Text, 16 << 10, seed);
            (await repo.Agent.RunAsync(["backup", "--stdin", "--stdin-filename", $"f{seed}.txt", "--tag", "base"], input)).EnsureSuccess("backup --stdin");
        }
        return repo;
    }

    private string PasswordFile(string password)
    {
        var path = _dir.Combine($"password-{Guid.NewGuid():N}");
        File.WriteAllText(path, password + "\n");
        return path;
    }

    private static Restic ResticWith(RepositoryPair repo, string password) => new(repo.Repository, password);

    [Fact]
    public async Task Key_add_list_remove_then_restic_opens_only_with_the_keys_left()
    {
        var repo = await RepositoryWithSnapshotsAsync(1);
        var added = await repo.Agent.RunOkAsync("key", "add", "--new-password-file", PasswordFile("second secret"), "--user", "alice", "--host", "box2");
        Assert.StartsWith("saved new key as ", added.StdoutText);

        var restic2 = ResticWith(repo, "second secret");
        Assert.Equal(1, (await restic2.JsonAsync("snapshots")).GetArrayLength());
        var ours = JsonDocument.Parse((await repo.Agent.RunOkAsync("key", "list", "--json")).Stdout).RootElement;
        var restics = await repo.Restic.JsonAsync("key", "list");
        Assert.Equal(restics.GetRawText(), ours.GetRawText());
        Assert.Contains(ours.EnumerateArray(), k => k.GetProperty("userName").GetString() == "alice" && k.GetProperty("hostName").GetString() == "box2");

        // The key in use is refused; with the second password the first key may go.
        var first = ours.EnumerateArray().Single(k => k.GetProperty("current").GetBoolean()).GetProperty("id").GetString()!;
        var refused = await repo.Agent.RunAsync(["key", "remove", first]);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("currently used", refused.Stderr);
        var agent2 = new Agent(repo.Repository, "second secret");
        await agent2.RunOkAsync("key", "remove", first);

        Assert.NotEqual(0, (await repo.Restic.RunAsync(["snapshots"])).ExitCode);
        Assert.NotEqual(0, (await repo.Agent.RunAsync(["snapshots"])).ExitCode);
        await restic2.CheckAsync();
        Assert.Single((await restic2.JsonAsync("key", "list")).EnumerateArray());
    }

    [Fact]
    public async Task Key_passwd_replaces_the_key_in_use()
    {
        var repo = await RepositoryWithSnapshotsAsync(1);
        await repo.Agent.RunOkAsync("key", "passwd", "--new-password-file", PasswordFile("new secret"));
        Assert.Equal(12, (await repo.Agent.RunAsync(["snapshots"])).ExitCode);
        Assert.Equal(1, (await ResticWith(repo, "new secret").JsonAsync("snapshots")).GetArrayLength());
        var missing = await repo.Agent.RunAsync(["key", "add"], extraEnv: new Dictionary<string, string> { ["RESTIC_PASSWORD"] = "new secret" });
        Assert.Equal(2, missing.ExitCode);
    }

    [Fact]
    public async Task Tag_add_remove_set_read_back_by_restic()
    {
        var repo = await RepositoryWithSnapshotsAsync(3);
        var before = (await repo.Restic.JsonAsync("snapshots")).EnumerateArray().Select(s => s.GetProperty("id").GetString()!).ToList();

        await repo.Agent.RunOkAsync("tag", "--add", "keep,audit", before[0][..8]);
        await repo.Agent.RunOkAsync("tag", "--remove", "base", "--tag", "audit");
        await repo.Agent.RunOkAsync("tag", "--set", "x", "--set", "y", before[2]);

        var after = (await repo.Restic.JsonAsync("snapshots")).EnumerateArray().ToList();
        Assert.Equal(3, after.Count);
        string[] Tags(JsonElement s) => s.TryGetProperty("tags", out var t) ? t.EnumerateArray().Select(x => x.GetString()!).ToArray() : [];
        string? Original(JsonElement s) => s.TryGetProperty("original", out var o) ? o.GetString() : null;
        var first = after.Single(s => Original(s) == before[0]);
        Assert.Equal(["audit", "keep"], Tags(first).Order());
        Assert.Null(Original(after.Single(s => s.GetProperty("id").GetString() == before[1])));
        Assert.Equal(["base"], Tags(after.Single(s => s.GetProperty("id").GetString() == before[1])));
        Assert.Equal(["x", "y"], Tags(after.Single(s => Original(s) == before[2])));
        // The old files are gone, and a second rewrite keeps naming the first original.
        Assert.DoesNotContain(after, s => s.GetProperty("id").GetString() == before[0] || s.GetProperty("id").GetString() == before[2]);
        await repo.Agent.RunOkAsync("tag", "--set", "", "--tag", "x");
        var cleared = (await repo.Restic.JsonAsync("snapshots")).EnumerateArray().Single(s => Original(s) == before[2]);
        Assert.Empty(Tags(cleared));
        await repo.Restic.CheckAsync(readData: false);

        var nothing = await repo.Agent.RunAsync(["tag", before[1][..8]]);
        Assert.Equal(2, nothing.ExitCode);
        var unknown = await repo.Agent.RunAsync(["tag", "--add", "z", "deadbeef"]);
        Assert.Equal(14, unknown.ExitCode);
    }
}
