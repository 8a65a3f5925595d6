using System.Text.Json;
using Backups.Tests.Errors;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Copying;

/// <summary>`backup-agent copy` against restic 0.14's `copy` from the same source: the same snapshots, a repository
/// restic checks and restores from identically, and nothing copied twice, whichever program made the copies.</summary>
public sealed class CopyTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Ours_and_restics_copy_make_destinations_with_the_same_snapshots_that_restore_identically()
    {
        var store = new LocalStore(_dir);
        var source = await CopySource.CreateAsync(store, _dir);
        var ours = store.New();
        var restics = store.New();
        await ours.Agent.RunOkAsync("init");
        await restics.Restic.RunOkAsync("init");

        var copied = await source.CopyIntoAsync(ours);
        await source.ResticCopyIntoAsync(restics);

        Assert.Equal(4, copied.GetProperty("snapshots_copied").GetInt32());
        var expected = await source.ExpectedCopiesAsync();
        Assert.Equal(expected, await CopySource.CopiesAsync(ours.Restic));
        Assert.Equal(expected, await CopySource.CopiesAsync(restics.Restic));
        await ours.Restic.CheckAsync(readData: true);

        // Each copy restores as restic's copy of the same snapshot does.
        var oursByOriginal = await ByOriginalAsync(ours.Restic);
        var resticsByOriginal = await ByOriginalAsync(restics.Restic);
        foreach (var (original, copy) in oursByOriginal)
        {
            var (a, b) = (_dir.Combine("restore", original, "ours"), _dir.Combine("restore", original, "restic"));
            await ours.Restic.RunOkAsync("restore", copy, "--target", a);
            await restics.Restic.RunOkAsync("restore", resticsByOriginal[original], "--target", b);
            await FileTrees.AssertSameAsync(a, b);
        }
    }

    [Fact]
    public async Task A_second_copy_copies_nothing_whichever_program_made_the_first()
    {
        var store = new LocalStore(_dir);
        var source = await CopySource.CreateAsync(store, _dir);
        var ours = store.New();
        var restics = store.New();
        await ours.Agent.RunOkAsync("init");
        await restics.Restic.RunOkAsync("init");
        await source.CopyIntoAsync(ours);
        await source.ResticCopyIntoAsync(restics);
        var (oursBefore, resticsBefore) = (Contents(ours), Contents(restics));

        foreach (var destination in new[] { ours, restics })
        {
            var again = await source.CopyIntoAsync(destination);
            Assert.Equal(0, again.GetProperty("snapshots_copied").GetInt32());
            Assert.Equal(4, again.GetProperty("snapshots_skipped").GetInt32());
            Assert.Equal(0, again.GetProperty("blobs_copied").GetInt32());
        }
        // restic takes our copies for its own: it copies nothing either.
        await source.ResticCopyIntoAsync(ours);
        Assert.Equal(oursBefore, Contents(ours));
        Assert.Equal(resticsBefore, Contents(restics));
    }

    [Fact]
    public async Task Filters_and_ids_choose_the_snapshots_and_data_the_destination_has_is_not_copied_again()
    {
        var store = new LocalStore(_dir);
        var source = await CopySource.CreateAsync(store, _dir);
        var ours = store.New();
        await ours.Agent.RunOkAsync("init");

        var db = await source.CopyIntoAsync(ours, "--tag", "db");
        Assert.Equal(1, db.GetProperty("snapshots_copied").GetInt32());
        var web = await source.CopyIntoAsync(ours, "--host", "web", "--path", source.Files);
        Assert.Equal(2, web.GetProperty("snapshots_copied").GetInt32());

        // The second snapshot of the directory changed one small file: its copy shares every other blob with the
        // first, already in the destination, and only what changed crosses: notes.txt's one content blob and the
        // trees from the root down to its directory (the test directory's path is a few levels deep).
        var fresh = store.New();
        await fresh.Agent.RunOkAsync("init");
        var first = await source.CopyIntoAsync(fresh, web.GetProperty("snapshots")[0].GetProperty("source").GetString()![..8]);
        Assert.Equal(1, first.GetProperty("snapshots_copied").GetInt32());
        var rest = await source.CopyIntoAsync(fresh, "--host", "web");
        Assert.Equal(1, rest.GetProperty("snapshots_copied").GetInt32());
        Assert.Equal(1, rest.GetProperty("snapshots_skipped").GetInt32());
        Assert.InRange(rest.GetProperty("blobs_copied").GetInt32(), 2, 1 + source.Files.Count(c => c == '/') + 1);
        Assert.True(rest.GetProperty("bytes_added").GetInt64() < 64 << 10, $"the changed snapshot added {rest.GetProperty("bytes_added")} bytes");

        var all = await source.CopyIntoAsync(ours);
        Assert.Equal(1, all.GetProperty("snapshots_copied").GetInt32());
        Assert.Equal(await source.ExpectedCopiesAsync(), await CopySource.CopiesAsync(ours.Restic));
        await ours.Restic.CheckAsync(readData: true);
    }

    [Fact]
    public async Task A_source_snapshot_id_that_matches_nothing_copies_nothing_and_says_so()
    {
        var store = new LocalStore(_dir);
        var source = await CopySource.CreateAsync(store, _dir);
        var ours = store.New();
        await ours.Agent.RunOkAsync("init");
        var before = Contents(ours);
        Failure.AssertOneLine(await ours.Agent.RunAsync(["copy", "0123abcd"], extraEnv: source.FromEnvironment()), Failure.NotFound, "0123abcd");
        Failure.AssertOneLine(await ours.Agent.RunAsync(["copy"]), Failure.Usage, "--from-repo");
        Assert.Equal(before, Contents(ours));
    }

    private static async Task<Dictionary<string, string>> ByOriginalAsync(Restic restic) =>
        (await restic.JsonAsync("snapshots")).EnumerateArray()
        .ToDictionary(s => s.GetProperty("original").GetString()!, s => s.GetProperty("id").GetString()!);

    /// <summary>A repository's data, index and snapshot files (locks come and go).</summary>
    private static SortedDictionary<string, string> Contents(RepositoryPair repo) =>
        new(RepositoryFiles.Snapshot(repo.Repository).Where(f => !f.Key.StartsWith("locks", StringComparison.Ordinal))
            .ToDictionary(f => f.Key, f => f.Value), StringComparer.Ordinal);
}
