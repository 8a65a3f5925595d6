using Backups.Core.Pruning;
using Backups.Core.Repositories;
using Backups.Core.Retention;
using Backups.Functions.Contracts;
using Backups.Functions.Repositories;
using Backups.Functions.Runtime;

namespace Backups.Functions.Handlers.Retention;

/// <summary>
/// restic's `forget --prune` with the policies from the input, each source's snapshots on their own (a source's
/// own policy, a tag's such as pre-deploy's, else the global one): the snapshots the policies do not keep are
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
        var request = new ForgetRequest(Field("policy", input.Policy.Validated),
            input.GroupBy is { } groupBy ? Field("groupBy", () => SnapshotGrouping.Parse(groupBy)) : SnapshotGrouping.Default, SnapshotFilter.All)
        {
            BySource = input.SourcePolicies is { } bySource ? Field("sourcePolicies", bySource.Validated) : SourcePolicies.None,
        };
        var maxUnused = input.MaxUnused is { } unused ? Field("maxUnused", () => MaxUnused.Parse(unused)) : MaxUnused.Default;
        if (request.Policy.IsEmpty) throw new InvalidInputException("invalid input at $.policy: an empty policy would keep everything (set at least one keep rule)");
        var dryRun = input.DryRun == true;

        await using var repo = await _repository.OpenAsync(context);
        var (plan, pruned) = await Forgetter.ForgetAsync(repo, request, dryRun,
            input.Prune == false ? null : new PruneOptions { MaxUnused = maxUnused }, context.CancellationToken);

        return new RetentionResult(request.Policy.ToString(), dryRun,
            [.. plan.Kept.Select(s => s.Id.ToString())], [.. plan.Removed.Select(s => s.Id.ToString())],
            pruned != null, (dryRun ? pruned?.PacksToDelete : pruned?.PacksDeleted) ?? 0, pruned?.PacksToRepack ?? 0, dryRun ? 0 : pruned?.BytesFreed ?? 0,
            pruned?.IndexFilesWritten ?? 0, pruned?.IndexFilesRemoved ?? 0, pruned?.RetainedPacks ?? [],
            [.. plan.Groups.GroupBy(g => g.Scope!).Select(s => new RetentionScopeResult(s.Key.Rule,
                s.Sum(g => g.Keep.Count), s.Sum(g => g.Remove.Count), s.Key.Source, s.Key.Tag))]);
    }

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
