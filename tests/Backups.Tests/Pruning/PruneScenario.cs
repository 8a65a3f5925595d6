using System.Text.Json;
using Backups.Tests.Errors;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Pruning;

/// <summary>A snapshot that survives the forget: its id, the folder it was taken of and that folder's files then.</summary>
public sealed record KeptSnapshot(string Id, string Source, SortedDictionary<string, string> Files);

/// <summary>
/// A repository after `restic forget` (without --prune), laid out so that prune has every kind of work: snapshot A
/// of many small files, half of which are gone by snapshot B (so A's packs mix kept and forgotten blobs), and
/// snapshot C of other files no kept snapshot shares (whole packs to delete). A and C are forgotten; B and D stay.
/// </summary>
public sealed record PruneScenario(RepositoryPair Repo, IReadOnlyList<KeptSnapshot> Kept)
{
    public enum Writer { Restic, Ours }

    /// <param name="ourKey">Initialise with our program even when restic writes the data: restic tunes its own key's
    /// scrypt to about half a second, which every later restic run pays again.</param>
    public static async Task<PruneScenario> CreateAsync(RepositoryPair repo, TempDir dir, Writer writer, int version = 2, bool ourKey = false)
    {
        const int files = 150;
        if (writer == Writer.Restic && !ourKey) await repo.Restic.RunOkAsync("init", "--repository-version", version.ToString());
        else await repo.Agent.RunOkAsync("init");
        async Task BackupAsync(string path)
        {
            if (writer == Writer.Restic) await repo.Restic.RunOkAsync("backup", "-q", path);
            else await repo.Agent.RunOkAsync("backup", path);
        }

        var root = dir.Combine($"sources-{Guid.NewGuid():N}");
        var src = Path.Combine(root, "src");
        Write(src, "keep", files, seed: 1, 4 << 10, 64 << 10);
        Write(src, "drop", files, seed: 2, 4 << 10, 64 << 10);
        await BackupAsync(src);                                          // A
        var other = Path.Combine(root, "other");
        Write(other, "other", 3, seed: 3, 1 << 20, 1 << 20);
        await BackupAsync(other);                                        // C
        foreach (var f in Directory.EnumerateFiles(src, "*-drop.bin")) File.Delete(f);
        Write(src, "new", files / 3, seed: 4, 4 << 10, 64 << 10);
        await BackupAsync(src);                                          // B
        var extra = Path.Combine(root, "extra");
        Write(extra, "extra", 5, seed: 5, 1 << 10, 200 << 10);
        await BackupAsync(extra);                                        // D

        var ids = (await repo.Restic.JsonAsync("snapshots")).EnumerateArray()
            .OrderBy(s => s.GetProperty("time").GetDateTimeOffset()).Select(s => s.GetProperty("id").GetString()!).ToList();
        Assert.Equal(4, ids.Count);
        await repo.Restic.RunOkAsync("forget", ids[0], ids[1]);
        return new PruneScenario(repo, [
            new KeptSnapshot(ids[2], src, RepositoryFiles.Snapshot(src)),
            new KeptSnapshot(ids[3], extra, RepositoryFiles.Snapshot(extra)),
        ]);
    }

    /// <summary>Files of random content and sizes; names interleave across kinds ("f0001-keep", "f0001-drop").</summary>
    private static void Write(string dir, string kind, int count, int seed, int minSize, int maxSize)
    {
        Directory.CreateDirectory(dir);
        var random = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            var bytes = new byte[random.Next(minSize, maxSize + 1)];
            random.NextBytes(bytes);
            File.WriteAllBytes(Path.Combine(dir, $"f{i:D4}-{kind}.bin"), bytes);
        }
    }

    /// <summary>An identical copy of this repository (same files) at a new local path.</summary>
    public PruneScenario CopyTo(string path)
    {
        FileTrees.CopyDirectory(Repo.Repository, path);
        return this with { Repo = new RepositoryPair(new Agent(path, Repositories.Password), new Restic(path, Repositories.Password), path) };
    }

    /// <summary>restic checks the repository, then restores every kept snapshot byte for byte (restores at once:
    /// they share the repository, and each restic run spends most of its time deriving the key; check locks it alone).</summary>
    public async Task AssertIntactAsync(TempDir dir, bool readData, string what)
    {
        async Task CheckAsync()
        {
            var r = await Repo.Restic.RunAsync(readData ? ["check", "--read-data"] : ["check"]);
            Assert.True(r.ExitCode == 0, $"{what}: restic check failed ({r.ExitCode}):\n{r.StdoutText}\n{r.Stderr}");
        }
        async Task RestoreAsync(KeptSnapshot kept)
        {
            var target = dir.Combine($"restore-{Guid.NewGuid():N}");
            await Repo.Restic.RunOkAsync("restore", kept.Id, "--target", target);
            var restored = RepositoryFiles.Snapshot(target + kept.Source);
            Assert.True(kept.Files.SequenceEqual(restored), $"{what}: snapshot {kept.Id[..8]} no longer restores {kept.Source} byte for byte");
            Directory.Delete(target, recursive: true);
        }
        await CheckAsync();
        await Task.WhenAll(Kept.Select(RestoreAsync));
    }

    public long DataBytes() => Repositories.DataBytes(Repo.Repository);

    /// <summary>Our prune with --json; returns its summary.</summary>
    public async Task<JsonElement> PruneAsync(params string[] args)
    {
        var r = await Repo.Agent.RunOkAsync(["--json", "prune", .. args]);
        return JsonDocument.Parse(r.StdoutText.Trim().Split('\n')[^1]).RootElement.Clone();
    }

    /// <summary>The pack counts `restic prune --dry-run -v` plans: to keep, to repack, to delete, unreferenced.</summary>
    public async Task<(int Keep, int Repack, int Delete, int Unreferenced)> ResticPlanAsync(params string[] args)
    {
        var r = await Repo.Restic.RunOkAsync(["prune", "--dry-run", "-v", .. args]);
        var lines = r.StdoutText.Split('\n');
        int Count(string prefix, string suffix) =>
            lines.Where(l => l.StartsWith(prefix) && l.TrimEnd().EndsWith(suffix))
                .Select(l => int.Parse(l[prefix.Length..].Trim().Split(' ')[0])).FirstOrDefault();
        return (Count("to keep:", "packs"), Count("to repack:", "packs"), Count("to delete:", " packs"), Count("to delete:", "unreferenced packs"));
    }
}
