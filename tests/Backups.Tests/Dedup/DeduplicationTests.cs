using System.Text.Json;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Dedup;

/// <summary>The same data backed up again adds almost nothing, also when restic wrote it first.</summary>
public sealed class DeduplicationTests : IDisposable
{
    private const long Size = 300L << 20;
    private readonly TempDir _dir = new();
    private readonly LocalStore _store;

    public DeduplicationTests() => _store = new LocalStore(_dir);
    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Second_backup_of_the_same_stream_adds_under_one_percent()
    {
        var repo = _store.New();
        await repo.Agent.RunOkAsync("init");
        await BackUpWithUsAsync(repo, seed: 11);
        var before = Repositories.DataBytes(repo.Repository);

        var added = await BackUpWithUsAsync(repo, seed: 11);

        var growth = Repositories.DataBytes(repo.Repository) - before;
        Assert.True(growth < Size / 100, $"the repository grew by {growth} bytes");
        Assert.True(added < Size / 100, $"backup reported {added} bytes added");
        await repo.Restic.CheckAsync(readData: false);
    }

    [Fact]
    public async Task Our_backup_after_restics_of_the_same_stream_adds_under_one_percent()
    {
        var repo = _store.New();
        await repo.Restic.RunOkAsync("init");
        using (var data = new TestData(TestData.Kind.Random, Size, seed: 12))
            (await repo.Restic.RunAsync(["backup", "--stdin", "--stdin-filename", "data.bin"], data)).EnsureSuccess("restic backup");
        var before = Repositories.DataBytes(repo.Repository);

        var added = await BackUpWithUsAsync(repo, seed: 12);

        var growth = Repositories.DataBytes(repo.Repository) - before;
        Assert.True(growth < Size / 100, $"the repository grew by {growth} bytes: our chunks differ from restic's");
        Assert.True(added < Size / 100, $"backup reported {added} bytes added");
        await repo.Restic.CheckAsync(readData: false);
    }

    private static async Task<long> BackUpWithUsAsync(RepositoryPair repo, int seed)
    {
        using var data = new TestData(TestData.Kind.Random, Size, seed);
        var result = (await repo.Agent.RunAsync(["--json", "backup", "--stdin", "--stdin-filename", "data.bin"], data)).EnsureSuccess("backup");
        return JsonDocument.Parse(result.Stdout).RootElement.GetProperty("data_added").GetInt64();
    }
}
