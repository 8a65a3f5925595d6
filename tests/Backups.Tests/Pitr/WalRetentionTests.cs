using Backups.Core.Backends;
using Backups.Core.Retention;
using Backups.Core.Snapshots;
using Backups.Core.Wal;
using Backups.Functions.Contracts;
using Backups.Functions.Handlers.Retention;
using Backups.Functions.Runtime;
using Backups.Tests.Support;
using Xunit;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Tests.Pitr;

/// <summary>
/// The Retention step on a cluster's history: base backups by their policy, WAL as far back as the oldest kept
/// base backup needs it (no keep rule counts WAL), the day's archiver batches merged into one snapshot, and what
/// is left whole for stock restic and for recovery.
/// </summary>
public sealed class WalRetentionTests : IDisposable
{
    private static readonly DateTimeOffset Today = new(DateTimeOffset.UtcNow.Date, TimeSpan.Zero);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Wal_older_than_the_oldest_kept_base_backup_goes_and_each_days_batches_become_one_snapshot()
    {
        var path = _dir.Combine("repo");
        var repo = await Repo.InitAsync(new LocalBackend(path), Repositories.Password);
        var history = new WalHistory(repo);
        DateTimeOffset Day(int days, int hour) => Today.AddDays(-days).AddHours(hour);
        var oldBase = await history.BaseAsync(Day(3, 1), segment: 3);
        var w1 = await history.WalAsync(Day(3, 0), Day(3, 0), 1, 2);
        var w2 = await history.WalAsync(Day(3, 2), Day(3, 2), 3, 4);
        var w3 = await history.WalAsync(Day(2, 2), Day(2, 2), 5, 6);
        var newBase = await history.BaseAsync(Day(1, 1), segment: 7);
        var w4 = await history.WalAsync(Day(1, 2), Day(1, 2), 7, 8);
        var w5 = await history.WalAsync(Day(1, 5), Day(1, 5), 9);

        // Restic's own forget by the same rule would keep one WAL batch and break the chain; ours keeps what the
        // remaining base backup replays. A dry run plans on the batches as they are and changes nothing.
        var before = Files(path);
        var planned = await ApplyAsync(path, dryRun: true);
        Assert.Equal(new[] { oldBase, w1, w2, w3 }.Select(s => s.Id.ToString()).Order(), planned.Removed.Order());
        Assert.Equal(before, Files(path));

        var result = await ApplyAsync(path, dryRun: false);

        var wal = result.Scopes.Single(s => s.Tag == PgSnapshots.WalTag);
        Assert.Equal(("db", WalRetention.Rule, 1, 2), (wal.Source, wal.Policy, wal.Kept, wal.Removed));
        var snapshots = await (await Repo.OpenAsync(new LocalBackend(path), Repositories.Password)).LoadSnapshotsAsync();
        Assert.Equal(2, snapshots.Count);
        Assert.Contains(snapshots, s => s.Id == newBase.Id);
        var merged = Assert.Single(snapshots, PgSnapshots.IsWal);
        Assert.Equal(w5.Time, merged.Time);

        // What stays is whole for stock restic, and each segment is the bytes archived.
        var restic = new Restic(path, Repositories.Password);
        await restic.CheckAsync(readData: true);
        var names = (await restic.RunOkAsync("ls", "--json", merged.Id.ToString())).StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => System.Text.Json.JsonDocument.Parse(line).RootElement)
            .Where(e => e.GetProperty("struct_type").GetString() == "node").Select(e => e.GetProperty("name").GetString()).ToList();
        Assert.Equal(new[] { 7, 8, 9 }.Select(n => WalHistory.Segment(n).Name), names);
        using var dumped = new MemoryStream();
        (await restic.RunAsync(["dump", merged.Id.ToString(), "/" + WalHistory.Segment(9).Name], stdout: dumped)).EnsureSuccess("restic dump");
        Assert.Equal(WalHistory.Content(9), dumped.ToArray());

        // The kept base backup still reaches the newest segment.
        var reopened = await Repo.OpenAsync(new LocalBackend(path), Repositories.Password);
        await reopened.LoadIndexAsync();
        var archive = await WalArchive.LoadAsync(reopened, "db", snapshots, default);
        Assert.Null(await WalChain.FirstGapAsync((file, ct) => WalArchive.ReadAsync(reopened, file, ct), "db", snapshots, archive, default));
    }

    private static SortedDictionary<string, string> Files(string repo) => new(
        Directory.GetFiles(repo, "*", SearchOption.AllDirectories).Where(f => !f.Contains("/locks/"))
            .ToDictionary(f => f, f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f)))), StringComparer.Ordinal);

    private static Task<RetentionResult> ApplyAsync(string repo, bool dryRun)
    {
        var environment = new FunctionEnvironment(new Dictionary<string, string> { ["RESTIC_REPOSITORY"] = repo, ["RESTIC_PASSWORD"] = Repositories.Password });
        return new RetentionFunction(environment).ApplyAsync(new RetentionInput
        {
            Policy = new RetentionPolicy { Last = 1 }, SourcePolicies = SourcePolicies.None, DryRun = dryRun,
        }, Functions.SnapshotHistory.Invocation());
    }
}
