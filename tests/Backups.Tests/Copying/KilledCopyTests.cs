using Backups.Tests.Errors;
using Backups.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Backups.Tests.Copying;

/// <summary>
/// A copy killed (SIGKILL) right after one of its file operations in the destination, at 10 points drawn with a
/// fixed seed over an uninterrupted copy's operations, one after each kind of write among them
/// (<see cref="FileOperationKill"/>, as the killed prunes), leaves a
/// destination that the next copy completes: the same snapshots as a copy never interrupted, a repository restic
/// checks, and a third copy that finds nothing to do.
/// </summary>
public sealed class KilledCopyTests(ITestOutputHelper log) : IDisposable
{
    private const int Kills = 10, ReadDataEvery = 3;
    private static readonly string[] Phases = ["wrote-pack", "wrote-index", "wrote-snapshot"];
    // Fixed, so that a failure reproduces (as far as the machine's timing allows): the points are printed.
    private const int RandomSeed = 20261202;

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Copies_killed_at_seeded_points_resume_to_the_same_end_state()
    {
        var store = new LocalStore(_dir);
        var source = await CopySource.CreateAsync(store, _dir, scale: 4);
        var expected = await source.ExpectedCopiesAsync();

        var (events, sequence, _) = await CopyAsync(source, await NewDestinationAsync(store), int.MaxValue);
        log.WriteLine($"an uninterrupted copy: {events} file operations; random seed {RandomSeed}");
        Assert.True(events >= 10, $"an uninterrupted copy made only {events} file operations");

        var points = FileOperationKill.KillPoints(sequence, Kills, RandomSeed, Phases);
        var phases = new HashSet<string>();
        for (var i = 0; i < Kills; i++)
        {
            var destination = await NewDestinationAsync(store);
            var k = points[i];
            var (_, _, last) = await CopyAsync(source, destination, k);
            var what = $"kill {i} after file operation {k} of {events} ({last})";
            log.WriteLine(what);
            phases.Add(last.Split(' ')[0]);

            var resumed = await source.CopyIntoAsync(destination);
            log.WriteLine($"  resumed: {resumed.GetProperty("snapshots_copied")} snapshots and {resumed.GetProperty("blobs_copied")} blobs copied, {resumed.GetProperty("snapshots_skipped")} already there");
            Assert.Equal(expected, await CopySource.CopiesAsync(destination.Restic));
            var again = await source.CopyIntoAsync(destination);
            Assert.True(again.GetProperty("snapshots_copied").GetInt32() == 0 && again.GetProperty("blobs_copied").GetInt32() == 0,
                $"{what}: a third copy still copied: {again}");

            await destination.Restic.RunOkAsync("unlock");
            var check = await destination.Restic.RunAsync(i % ReadDataEvery == 0 ? ["check", "--read-data"] : ["check"]);
            Assert.True(check.ExitCode == 0, $"{what}: restic check failed ({check.ExitCode}):\n{check.StdoutText}\n{check.Stderr}");
            Directory.Delete(destination.Repository, recursive: true);
        }
        log.WriteLine($"last operations before a kill: {string.Join(", ", phases.Order())}");
        foreach (var phase in Phases)
            Assert.True(phases.Contains(phase), $"no copy was killed right after it {phase}");
    }

    private static async Task<RepositoryPair> NewDestinationAsync(IRepositoryStore store)
    {
        var destination = store.New();
        await destination.Agent.RunOkAsync("init");
        return destination;
    }

    /// <returns>How many file operations the copy made (up to the kill), which, and the last one.</returns>
    private static async Task<(int Events, IReadOnlyList<string> Sequence, string Last)> CopyAsync(CopySource source, RepositoryPair destination, int killAfter)
    {
        var env = destination.Agent.Environment();
        foreach (var (k, v) in source.FromEnvironment()) env[k] = v;
        var run = await FileOperationKill.RunAsync(destination.Repository, ["copy"], env, killAfter);
        Assert.True(killAfter == int.MaxValue ? !run.Killed && run.ExitCode == 0 : run.Killed,
            $"the copy {(run.Killed ? "was killed" : $"ended ({run.ExitCode})")} (kill after {killAfter}): {run.Stderr}");
        return (run.Operations, run.Sequence, run.Last);
    }
}
