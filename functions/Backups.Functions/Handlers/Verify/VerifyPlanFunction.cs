using Backups.Core;
using Backups.Core.Backends;
using Backups.Core.Checking;
using Backups.Functions.Contracts;
using Backups.Functions.Runtime;

namespace Backups.Functions.Handlers.Verify;

/// <summary>
/// The first step of the workflow's Verify: checks the structure once (snapshots, trees, the index against the
/// packs) and splits the night's share of the packs into slices of at most VERIFY_SLICE_BYTES, which a Map state
/// reads in parallel (Verify with <c>dataOnly</c>), VERIFY_MAX_CONCURRENCY at a time. A small repository is one
/// slice. Slices are ranges of pack ids, so a pack written between the plan and its slice's read still falls in
/// exactly one of them.
/// </summary>
public sealed class VerifyPlanFunction(FunctionEnvironment environment)
{
    // The Map state's results travel in the execution's state (256 KiB at most): a few hundred bytes per slice.
    public const int MaxSlices = 200;

    private readonly VerifySettings _settings = new(environment);
    private readonly LockedCheck _check = new(environment);

    public async Task<VerifyPlan> PlanAsync(VerifyPlanInput input, InvocationContext context)
    {
        var now = environment.Time.GetUtcNow();
        var share = NightlyShare.Choose(input.Deep, input.CycleDays, now, _settings);
        var sizes = new Dictionary<Id, long>();
        var report = await _check.RunAsync(new CheckOptions { ReadData = PackSelection.None, Parallelism = _settings.Parallelism }, context,
            async (repo, ct) =>
            {
                await foreach (var (name, size) in repo.Backend.ListAsync(FileKind.Pack, ct))
                    if (Id.TryParse(name, out var id)) sizes[id] = size;
            });
        var selected = share.Select([.. sizes.Keys.Order()]);
        var bytes = selected.Sum(id => sizes[id]);
        var slices = (int)Math.Clamp((bytes + _settings.SliceBytes - 1) / _settings.SliceBytes, 1, MaxSlices);
        var parts = share.Split(slices).Select(p => new VerifyPart(p.Slice, p.Slices)).ToList();
        return new VerifyPlan(now, share.Description, report.Snapshots, report.Packs, report.Blobs, selected.Count, bytes,
            _settings.SliceBytes, _settings.MaxConcurrency, parts, [.. report.Warnings.Select(w => w.Message)]);
    }
}
