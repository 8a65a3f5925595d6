using Backups.Core;
using Backups.Core.Backends;
using Backups.Core.Checking;
using Backups.Core.Indexes;
using Backups.Core.Json;
using Backups.Tests.Support;
using Xunit;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Tests.Checking;

public enum Writer { Ours, Restic }

/// <summary>
/// Two small repositories holding the same backups, one written by backup-agent and one by restic: a directory
/// (random, text and small files in a subdirectory), then three stdin backups, so that each has several data and
/// tree packs. Built once; every test damages its own copy.
/// </summary>
public sealed class CheckedRepositories : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private readonly Dictionary<Writer, string> _pristine = [];
    private int _copies;

    public async Task InitializeAsync()
    {
        var source = _dir.Combine("source");
        Directory.CreateDirectory(Path.Combine(source, "sub"));
        Write(Path.Combine(source, "random.bin"), TestData.Kind.Random, 2 << 20, 1);
        Write(Path.Combine(source, "text.txt"), TestData.Kind.Text, 1 << 20, 2);
        for (var i = 0; i < 3; i++) Write(Path.Combine(source, "sub", $"small{i}.txt"), TestData.Kind.Text, 1000 + i, 3 + i);

        var store = new LocalStore(_dir);
        await Task.WhenAll(BuildAsync(Writer.Ours, store.New(), source), BuildAsync(Writer.Restic, store.New(), source));
    }

    private async Task BuildAsync(Writer writer, RepositoryPair repo, string source)
    {
        if (writer == Writer.Ours)
        {
            await repo.Agent.RunOkAsync("init");
            await repo.Agent.RunOkAsync("backup", source);
        }
        else
        {
            await repo.Restic.RunOkAsync("init");
            await repo.Restic.RunOkAsync("backup", source);
        }
        for (var seed = 10; seed < 13; seed++)
        {
            using var data = new TestData(TestData.Kind.Random, 300_000, seed);
            string[] args = ["backup", "--stdin", "--stdin-filename", $"stdin{seed}.bin"];
            (writer == Writer.Ours ? await repo.Agent.RunAsync(args, data) : await repo.Restic.RunAsync(args, data)).EnsureSuccess($"{writer} backup");
        }
        _pristine[writer] = repo.Repository;
    }

    private static void Write(string path, TestData.Kind kind, long length, int seed)
    {
        using var data = new TestData(kind, length, seed);
        using var file = File.Create(path);
        data.CopyTo(file);
    }

    /// <summary>A fresh copy of the repository <paramref name="writer"/> wrote, for one test to damage.</summary>
    public RepositoryPair Copy(Writer writer)
    {
        var target = _dir.Combine($"copy{Interlocked.Increment(ref _copies)}");
        var from = _pristine[writer];
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var to = Path.Combine(target, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }
        foreach (var dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(target, Path.GetRelativePath(from, dir)));
        return new RepositoryPair(new Agent(target, Repositories.Password), new Restic(target, Repositories.Password), target);
    }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>The engine's check on a local repository, and what the damage tests need to know about its files.</summary>
public static class CheckTools
{
    public static async Task<CheckReport> CheckAsync(string repository, CheckOptions? options = null)
    {
        await using var repo = await Repo.OpenAsync(new LocalBackend(repository), Repositories.Password);
        return await Checker.CheckAsync(repo, options);
    }

    /// <summary>Every index file by name, decrypted and parsed.</summary>
    public static async Task<List<(string Name, IndexFile File)>> IndexFilesAsync(string repository)
    {
        await using var repo = await Repo.OpenAsync(new LocalBackend(repository), Repositories.Password);
        var result = new List<(string, IndexFile)>();
        await foreach (var (name, _) in repo.Backend.ListAsync(FileKind.Index))
        {
            var file = new FileHandle(FileKind.Index, name);
            result.Add((name, RepositoryJson.Deserialize((await repo.LoadUnpackedAsync(file)).Span, RepositoryJson.Context.IndexFile, file.ToString())));
        }
        return result;
    }

    /// <summary>The packs holding blobs of one type only, with the index file naming them.</summary>
    public static async Task<List<(string IndexFile, IndexPack Pack)>> PacksAsync(string repository, string type) =>
        (await IndexFilesAsync(repository))
        .SelectMany(f => f.File.Packs.Where(p => p.Blobs.All(b => b.Type == type)).Select(p => (f.Name, p))).ToList();

    public static string PackPath(string repository, Id pack) => Path.Combine(repository, "data", pack.ToString()[..2], pack.ToString());

    public static string PackName(Id pack) => $"data/{pack.ToString()[..2]}/{pack}";

    /// <summary>Replaces an index file by <paramref name="file"/>, encrypted with the repository's key and stored
    /// under its new hash, as a buggy writer would leave it. Returns the new file's name.</summary>
    public static async Task<string> RewriteIndexAsync(string repository, string oldName, IndexFile file)
    {
        await using var repo = await Repo.OpenAsync(new LocalBackend(repository), Repositories.Password);
        var id = await repo.SaveUnpackedAsync(FileKind.Index, RepositoryJson.Serialize(file, RepositoryJson.Context.IndexFile));
        File.Delete(Path.Combine(repository, "index", oldName));
        return id.ToString();
    }

    /// <summary>Stores a lock file as another process would have; returns its id.</summary>
    public static async Task<Id> WriteLockAsync(string repository, Backups.Core.Locks.LockFile held)
    {
        await using var repo = await Repo.OpenAsync(new LocalBackend(repository), Repositories.Password);
        return await repo.SaveUnpackedAsync(FileKind.Lock, RepositoryJson.Serialize(held, RepositoryJson.Context.LockFile));
    }

    /// <summary>restic's verdict on the same repository: true when its check passes. Its read-data check retries
    /// a pack that is missing or short for 45 seconds, so faults of that kind are judged by its structure check.</summary>
    public static async Task<bool> ResticPassesAsync(RepositoryPair repo, bool readData = true) =>
        (await repo.Restic.RunAsync(readData ? ["check", "--read-data"] : ["check"])).ExitCode == 0;

    public static string Describe(CheckReport report) => string.Join("\n", report.Problems.Select(p => p.ToString()));

    public static void AssertHealthy(CheckReport report) => Assert.True(report.Problems.Count == 0, Describe(report));
}
