using Backups.Functions.Contracts;
using Backups.Functions.Runtime;

namespace Backups.Functions.Handlers.Verify;

/// <summary>
/// The last step of the workflow's Verify: one result from the plan and what each slice read (Step Functions
/// cannot add numbers up): the structure's figures from the plan, the data's as the slices' sums, every warning
/// once, and each slice's own figures. A damaged slice never gets here: it failed the Map state.
/// </summary>
public static class VerifyMergeFunction
{
    public static Task<VerifyResult> MergeAsync(VerifyMergeInput input, InvocationContext context)
    {
        var plan = input.Plan;
        if (plan.Results is not { } results || results.Count != plan.Parts.Count)
            throw new InvalidInputException($"invalid input at $.plan.results: one result per part is required ({plan.Parts.Count})");
        return Task.FromResult(new VerifyResult(plan.CheckedAt, plan.Selection, plan.Snapshots, plan.Packs, plan.Blobs,
            results.Sum(r => r.PacksSelected), results.Sum(r => r.PacksRead), results.Sum(r => r.PacksLeft), results.Sum(r => r.BytesRead),
            [.. plan.Warnings.Concat(results.SelectMany(r => r.Warnings)).Distinct()],
            [.. results.Select(r => new VerifySliceSummary(r.Selection, r.PacksSelected, r.PacksRead, r.PacksLeft, r.BytesRead))]));
    }
}
