using Backups.Core.Pruning;
using Backups.Core.Repository;
using Backups.Core.Retention;
using Backups.Functions.Contracts;
using Backups.Functions.Repositories;
using Backups.Functions.Runtime;

namespace Backups.Functions.Handlers.Retention;

/// <summary>
/// restic's `forget --prune` with the policy from the input: the snapshots the policy does not keep are
/// forgotten, then the data only they referenced is pruned, all under one exclusive lock (a backup holding
/// the repository makes this fail with Backups.Locked, for the workflow's Catch, without touching anything).
/// The prune's write order keeps every kept snapshot whole if the function is stopped at any point; the next
/// night's prune finishes the work.
/// </summary>
public sealed class RetentionFunction(FunctionEnvironment environment)
{
    private readonly FunctionRepository _repository = new(environment);

    public async Task<RetentionResult> ApplyAsync(RetentionInput input, InvocationContext context)
    {
        var request = new ForgetRequest(Field("policy", () => Policy(input.Policy)),
            input.GroupBy is { } groupBy ? Field("groupBy", () => SnapshotGrouping.Parse(groupBy)) : SnapshotGrouping.Default, SnapshotFilter.All);
        var maxUnused = input.MaxUnused is { } unused ? Field("maxUnused", () => MaxUnused.Parse(unused)) : MaxUnused.Default;
        if (request.Policy.IsEmpty) throw new InvalidInputException("invalid input at $.policy: an empty policy would keep everything (set at least one keep rule)");
        var dryRun = input.DryRun == true;

        await using var repo = await _repository.OpenAsync(context);
        PruneStats? pruned = null;
        var plan = await Forgetter.ForgetAsync(repo, request, dryRun, async (locked, plan, ct) =>
        {
            // As restic: nothing forgotten, nothing to prune.
            if (input.Prune == false || !plan.Removed.Any()) return;
            pruned = await Pruner.PruneLockedAsync(locked, new PruneOptions { MaxUnused = maxUnused, DryRun = dryRun }, ct: ct);
        }, context.CancellationToken);

        return new RetentionResult(request.Policy.ToString(), dryRun,
            [.. plan.Kept.Select(s => s.Id.ToString())], [.. plan.Removed.Select(s => s.Id.ToString())],
            pruned != null, (dryRun ? pruned?.PacksToDelete : pruned?.PacksDeleted) ?? 0, pruned?.PacksToRepack ?? 0, dryRun ? 0 : pruned?.BytesFreed ?? 0,
            pruned?.IndexFilesWritten ?? 0, pruned?.IndexFilesRemoved ?? 0, pruned?.RetainedPacks ?? []);
    }

    private static RetentionPolicy Policy(RetentionPolicyInput policy) => new RetentionPolicy
    {
        Last = policy.KeepLast ?? 0, Hourly = policy.KeepHourly ?? 0, Daily = policy.KeepDaily ?? 0,
        Weekly = policy.KeepWeekly ?? 0, Monthly = policy.KeepMonthly ?? 0, Yearly = policy.KeepYearly ?? 0,
        Within = policy.KeepWithin is { } within ? RetentionDuration.Parse(within) : default,
        KeepTags = [.. (policy.KeepTags ?? []).Select(TagList.Parse)],
    }.Validated();

    /// <summary>A value of the input through the engine's own parser; its complaint names the field.</summary>
    private static T Field<T>(string field, Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (RepositoryException e) when (e.Kind == ErrorKind.InvalidArgument)
        {
            throw new InvalidInputException($"invalid input at $.{field}: {e.Message}");
        }
    }
}
