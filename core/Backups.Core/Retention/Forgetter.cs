using Backups.Core.Backends;
using Backups.Core.Locks;
using Backups.Core.Pruning;
using Backups.Core.Snapshots;
using Backups.Core.Wal;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Retention;

/// <summary>
/// Applies a retention policy to a repository as restic's forget does: under an exclusive lock (also for a
/// dry run, as restic 0.14 without --no-lock), plan on the snapshots found, then remove the snapshot files
/// of the plan. Only snapshot files go; their data stays until a prune. A cluster's WAL snapshots are first
/// merged into one a day, then kept as far back as the remaining base backups need them (restic would treat
/// them as any snapshot: a keep-daily would leave one batch a day and break the chain).
/// </summary>
public static class Forgetter
{
    /// <param name="prune">restic's forget --prune: prune under the same lock, with these options (their
    /// dry run is <paramref name="dryRun"/>), when the plan removed a snapshot; nothing forgotten, nothing to prune.</param>
    public static async Task<ForgetOutcome> ForgetAsync(Repo repo, ForgetRequest request, bool dryRun, PruneOptions? prune = null, CancellationToken ct = default)
    {
        request.Validated();
        await using var repositoryLock = await RepositoryLock.AcquireAsync(repo, exclusive: true, ct);
        IReadOnlyList<Snapshot> snapshots = await repo.LoadSnapshotsAsync(ct);
        var hasWal = snapshots.Any(PgSnapshots.IsWal);
        if (hasWal) await repo.LoadIndexAsync(ct);
        if (hasWal && !dryRun) snapshots = await WalCompactor.CompactAsync(repo, snapshots, request.Filter, ct);
        var plan = RetentionPlanner.Plan(snapshots, request, DateTimeOffset.Now, TimeZoneInfo.Local);
        if (hasWal) plan = await WalRetention.PlanAsync(repo, snapshots, plan, request.Filter, ct);
        if (!dryRun) await RemoveAsync(repo, plan.Removed.Select(s => s.Id), ct);
        var pruned = prune != null && plan.Removed.Any() ? await Pruner.PruneLockedAsync(repo, prune with { DryRun = dryRun }, ct: ct) : null;
        return new ForgetOutcome(plan, pruned);
    }

    /// <summary>
    /// restic's `forget ID...`: removes the named snapshots (ids, unique id prefixes, "latest") under an exclusive
    /// lock. All names are resolved first, so an unknown one removes nothing. Returns the snapshots named.
    /// </summary>
    public static async Task<IReadOnlyList<Snapshot>> ForgetSnapshotsAsync(Repo repo, IReadOnlyList<string> names, bool dryRun, CancellationToken ct = default)
    {
        await using var repositoryLock = await RepositoryLock.AcquireAsync(repo, exclusive: true, ct);
        var snapshots = new List<Snapshot>();
        foreach (var name in names) snapshots.Add(await SnapshotFinder.FindAsync(repo, name, ct: ct));
        if (!dryRun) await RemoveAsync(repo, snapshots.Select(s => s.Id), ct);
        return snapshots;
    }

    /// <summary>Removes snapshot files (a few at a time); the caller holds the exclusive lock.</summary>
    public static Task RemoveAsync(Repo repo, IEnumerable<Id> snapshots, CancellationToken ct = default) =>
        Parallel.ForEachAsync(snapshots.Distinct(), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct },
            async (id, token) => await repo.Backend.RemoveAsync(new FileHandle(FileKind.Snapshot, id.ToString()), token));
}
