using System.Text.Json;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Copying;

/// <summary>
/// A source repository to copy from, written by restic (and one snapshot by us): a directory from host "web"
/// tagged files, twice (the second time one file changed), a stream from host "db" tagged db, and our own
/// backup of a stream tagged agent. Seeded, so every run and every destination sees the same data.
/// </summary>
public sealed class CopySource
{
    private const int MiB = 1 << 20;

    public RepositoryPair Repo { get; }
    public string Files { get; }

    private CopySource(RepositoryPair repo, string files)
    {
        Repo = repo;
        Files = files;
    }

    /// <param name="scale">Multiplies the data's size (the killed copies want a few packs' worth).</param>
    public static async Task<CopySource> CreateAsync(IRepositoryStore store, TempDir dir, int scale = 1)
    {
        var repo = store.New();
        await repo.Restic.RunOkAsync("init");
        var files = Directory.CreateDirectory(dir.Combine($"files-{Guid.NewGuid():N}")).FullName;
        var random = new Random(1611);
        for (var i = 0; i < 6; i++)
        {
            var sub = Directory.CreateDirectory(Path.Combine(files, $"dir{i % 3}")).FullName;
            var content = new byte[random.Next(1, 3 * MiB) * scale];
            random.NextBytes(content);
            await File.WriteAllBytesAsync(Path.Combine(sub, $"file{i}.bin"), content);
        }
        await File.WriteAllTextAsync(Path.Combine(files, "notes.txt"), "the same text in every copy\n");
        await repo.Restic.RunOkAsync("backup", "--host", "web", "--tag", "files", files);
        await File.AppendAllTextAsync(Path.Combine(files, "notes.txt"), "and a second line\n");
        await repo.Restic.RunOkAsync("backup", "--host", "web", "--tag", "files", files);
        using (var data = new TestData(TestData.Kind.Random, 6L * MiB * scale, seed: 1612))
            (await repo.Restic.RunAsync(["backup", "--host", "db", "--tag", "db", "--stdin", "--stdin-filename", "db.dump"], data)).EnsureSuccess("restic backup --stdin");
        using (var data = new TestData(TestData.Kind.Text, 2L * MiB * scale, seed: 1613))
            (await repo.Agent.RunAsync(["backup", "--host", "box", "--tag", "agent", "--stdin", "--stdin-filename", "agent.txt"], data)).EnsureSuccess("backup --stdin");
        return new CopySource(repo, files);
    }

    /// <summary>The variables that name this repository as copy's source (restic's RESTIC_FROM_*).</summary>
    public Dictionary<string, string> FromEnvironment() => new()
    {
        ["RESTIC_FROM_REPOSITORY"] = Repo.Repository,
        ["RESTIC_FROM_PASSWORD"] = Repositories.Password,
    };

    /// <summary>`backup-agent copy` into <paramref name="destination"/> from this repository; its JSON summary.</summary>
    public async Task<JsonElement> CopyIntoAsync(RepositoryPair destination, params string[] args)
    {
        var r = (await destination.Agent.RunAsync(["--json", "copy", .. args], extraEnv: FromEnvironment())).EnsureSuccess("backup-agent copy");
        return JsonDocument.Parse(r.Stdout).RootElement.Clone();
    }

    /// <summary>`restic copy` into <paramref name="destination"/> from this repository.</summary>
    public async Task ResticCopyIntoAsync(RepositoryPair destination, params string[] args)
    {
        var restic = new Restic(destination.Repository, Repositories.Password, env: FromEnvironment());
        var r = await restic.RunAsync(["copy", .. args]);
        Assert.True(r.ExitCode == 0, $"restic copy failed ({r.ExitCode}): {r.Stderr}");
    }

    /// <summary>What identifies a copy, as restic lists it: where it came from and what it holds (everything but
    /// its own id and parent), sorted by original.</summary>
    public static async Task<List<string>> CopiesAsync(Restic restic)
    {
        var list = await restic.JsonAsync("snapshots");
        return [.. list.EnumerateArray().Select(s => string.Join(" | ",
                Prop(s, "original"), Prop(s, "tree"), Prop(s, "time"), Prop(s, "hostname"), Prop(s, "username"),
                Props(s, "paths"), Props(s, "tags"), s.TryGetProperty("parent", out _) ? "with parent" : "no parent"))
            .Order(StringComparer.Ordinal)];
    }

    /// <summary>The source's own snapshots as their copies must look (each one its own original).</summary>
    public async Task<List<string>> ExpectedCopiesAsync()
    {
        var list = await Repo.Restic.JsonAsync("snapshots");
        return [.. list.EnumerateArray().Select(s => string.Join(" | ",
                Prop(s, "id"), Prop(s, "tree"), Prop(s, "time"), Prop(s, "hostname"), Prop(s, "username"),
                Props(s, "paths"), Props(s, "tags"), "no parent"))
            .Order(StringComparer.Ordinal)];
    }

    private static string Prop(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.ToString() : "-";

    private static string Props(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) ? string.Join(",", v.EnumerateArray().Select(x => x.GetString()).Order(StringComparer.Ordinal)) : "-";
}
