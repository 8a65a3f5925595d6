using Backups.Tests.Errors;
using Backups.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Backups.Tests.Pruning;

/// <summary>
/// SIGKILL of a prune at random points (at least 20) never breaks a kept snapshot, and a rerun completes it.
/// The points are file operations in the repository (packs written, index files written and removed, packs
/// removed): the kill follows the k-th one seen (<see cref="FileOperationKill"/>), k drawn at random over an
/// uninterrupted prune's operations, one right after each kind of operation first, so the kills spread over every
/// phase however fast the machine is.
/// </summary>
public sealed class KilledPruneTests(ResticScenarioFixture shared, ITestOutputHelper log) : IClassFixture<ResticScenarioFixture>, IDisposable
{
    private const int Kills = 20;
    private static readonly string[] Phases = ["wrote-pack", "wrote-index", "removed-index", "removed-pack"];
    // Every rerun must succeed; every fourth is also checked in full (nothing left to prune, restic check --read-data).
    private const int VerifyRerunEvery = 4;
    // Fixed, so that a failure reproduces (as far as the machine's timing allows): the points are printed.
    private const int RandomSeed = 20261122;

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Prunes_killed_at_random_points_keep_every_snapshot_and_a_rerun_completes()
    {
        var uninterrupted = await PruneAsync(shared.Copy(_dir), killAfter: int.MaxValue);
        var events = uninterrupted.Operations;
        log.WriteLine($"an uninterrupted prune: {events} file operations; random seed {RandomSeed}");
        Assert.True(events >= 10, $"an uninterrupted prune made only {events} file operations");

        // The last operation removes the lock: a kill after it kills nothing (no point is drawn there).
        var points = FileOperationKill.KillPoints(uninterrupted.Sequence, Kills, RandomSeed, Phases);
        var phases = new HashSet<string>();
        for (var i = 0; i < Kills; i++)
        {
            var s = shared.Copy(_dir);
            var k = points[i];
            var run = await PruneAsync(s, killAfter: k);
            var (killed, last) = (run.Killed, run.Last);
            var what = $"kill {i} after file operation {k} of {events} ({last})";
            log.WriteLine(what);
            Assert.True(killed, $"{what}: the prune ended before the kill");
            phases.Add(last.Split(' ')[0]);

            if (RepositoryFiles.Ids(s.Repo.Repository, "locks").Count > 0)
            {
                if (i % 2 == 0) await s.Repo.Restic.RunOkAsync("unlock");
                else await s.Repo.Agent.RunOkAsync("unlock");
            }
            await s.AssertIntactAsync(_dir, readData: false, what);

            await s.PruneAsync("--max-unused", "0");
            if (i % VerifyRerunEvery == VerifyRerunEvery - 1)
            {
                var left = await s.PruneAsync("--max-unused", "0", "--dry-run");
                foreach (var field in new[] { "packs_to_delete", "packs_to_repack", "unreferenced_packs", "packs_missing", "unused_blobs", "duplicate_blobs" })
                    Assert.True(left.GetProperty(field).GetInt64() == 0, $"{what}: after the rerun, {field} is {left.GetProperty(field)}");
                await s.AssertIntactAsync(_dir, readData: true, $"{what}, after the rerun");
            }
            Directory.Delete(s.Repo.Repository, recursive: true);
        }
        log.WriteLine($"last operations before a kill: {string.Join(", ", phases.Order())}");
        foreach (var phase in Phases)
            Assert.True(phases.Contains(phase), $"no prune was killed right after it {phase}");
    }

    /// <summary>Runs `prune --max-unused 0` and kills it (SIGKILL) right after its k-th file operation.</summary>
    /// <returns>What the watched prune did: its operations up to the kill, whether it was killed, the last one.</returns>
    private static async Task<KilledRun> PruneAsync(PruneScenario s, int killAfter)
    {
        var run = await FileOperationKill.RunAsync(s.Repo.Repository, ["prune", "--max-unused", "0"], s.Repo.Agent.Environment(), killAfter);
        Assert.True(run.Killed || run.ExitCode == 0, $"prune failed on its own ({run.ExitCode}): {run.Stderr}");
        return run;
    }
}
