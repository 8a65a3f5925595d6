using Backups.Core.Backends;
using Backups.Core.Wal;
using Backups.Functions.Contracts;
using Backups.Functions.Handlers.Verify;
using Backups.Functions.Runtime;
using Backups.Tests.Support;
using Xunit;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Tests.Pitr;

/// <summary>
/// A WAL snapshot lost from a cluster's archive (deleted by hand, or by a forget that did not know better) leaves
/// a hole between the base backup and the newest segment: `check` and the Verify step fail naming the first
/// missing segment, and `pitr` to a moment past the hole refuses before writing anything.
/// </summary>
public sealed class WalGapTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A repository with a base backup at segment 3 and segments 3 and 4 archived, three hours ago.</summary>
    private async Task<(string Path, Repo Repo, WalHistory History, DateTimeOffset T0)> ArchiveFromSegment3Async()
    {
        var path = _dir.Combine("repo");
        var repo = await Repo.InitAsync(new LocalBackend(path), Repositories.Password);
        var history = new WalHistory(repo);
        var t0 = DateTimeOffset.UtcNow.AddHours(-3);
        await history.BaseAsync(t0.AddMinutes(-1), segment: 3);
        await history.WalAsync(t0, t0, 3, 4);
        return (path, repo, history, t0);
    }

    [Fact]
    public async Task A_deleted_wal_snapshot_fails_check_and_verify_naming_the_segment_and_pitr_past_it_writes_nothing()
    {
        var (path, repo, history, t0) = await ArchiveFromSegment3Async();
        var lost = await history.WalAsync(t0.AddHours(1), t0.AddHours(1), 5, 6);
        await history.WalAsync(t0.AddHours(2), t0.AddHours(2), 7, 8);
        var agent = new Agent(path, Repositories.Password);
        await agent.RunOkAsync("check");

        await repo.Backend.RemoveAsync(new FileHandle(FileKind.Snapshot, lost.Id.ToString()), default);
        var missing = WalHistory.Segment(5).Name;

        var check = await agent.RunAsync(["check"]);
        Assert.Equal(15, check.ExitCode);
        Assert.Contains($"segment {missing} is missing", check.StdoutText + check.Stderr);

        var environment = new FunctionEnvironment(new Dictionary<string, string> { ["RESTIC_REPOSITORY"] = path, ["RESTIC_PASSWORD"] = Repositories.Password });
        var failure = await Assert.ThrowsAsync<FunctionFailure>(() => new VerifyFunction(environment).VerifyAsync(new VerifyInput(), Functions.SnapshotHistory.Invocation()));
        Assert.Equal(LockedCheck.DamagedError, failure.ErrorType);
        Assert.Contains($"segment {missing} is missing", failure.Message);

        var config = _dir.Combine("config.json");
        await File.WriteAllTextAsync(config, $$"""
            { "repository": "{{path}}", "password": { "value": "{{Repositories.Password}}" },
              "sources": [ { "name": "db", "kind": "postgres-cluster", "host": "127.0.0.1", "port": 1, "user": "postgres" } ] }
            """);
        var pgdata = _dir.Combine("pgdata");
        var pitr = await agent.RunAsync(["pitr", "--config", config, "--to", t0.AddHours(1).ToString("yyyy-MM-dd HH:mm:ss+00"), "--pgdata", pgdata]);
        Assert.Equal(15, pitr.ExitCode);
        Assert.Contains($"WAL segment {missing} is missing", pitr.Stderr);
        Assert.False(Directory.Exists(pgdata));
    }

    [Fact]
    public async Task A_hole_right_after_a_promotion_fails_check_naming_the_new_timelines_first_segment()
    {
        var (path, repo, history, t0) = await ArchiveFromSegment3Async();
        // Promoted inside segment 5: timeline 2's segment 5 (timeline 1's WAL up to the switch, then its own) is
        // the first a replay reads on it.
        await history.HistoryAsync(2, new Lsn(5 * WalHistory.SegmentSize + 0x100), t0.AddHours(1));
        var lost = await history.WalOnAsync(2, t0.AddHours(1), t0.AddHours(1), 5);
        await history.WalOnAsync(2, t0.AddHours(2), t0.AddHours(2), 6, 7);
        var agent = new Agent(path, Repositories.Password);
        await agent.RunOkAsync("check");

        await repo.Backend.RemoveAsync(new FileHandle(FileKind.Snapshot, lost.Id.ToString()), default);
        var check = await agent.RunAsync(["check"]);
        Assert.Equal(15, check.ExitCode);
        Assert.Contains($"segment {WalHistory.Segment(5, timeline: 2).Name} is missing", check.StdoutText + check.Stderr);
    }
}
