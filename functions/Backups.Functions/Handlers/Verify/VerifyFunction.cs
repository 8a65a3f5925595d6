using Backups.Core.Checking;
using Backups.Functions.Contracts;
using Backups.Functions.Runtime;

namespace Backups.Functions.Handlers.Verify;

/// <summary>
/// Verifies the repository as `backup-agent check` does: the structure (unless a plan checked it already), and
/// the data of a share of the packs sized to the invocation: no pack is started after the deadline less a margin
/// for the answer, and the rest of the share waits for a later night. In the workflow each branch of the Map
/// state runs it on one slice VerifyPlan made.
/// </summary>
public sealed class VerifyFunction(FunctionEnvironment environment)
{
    private readonly VerifySettings _settings = new(environment);
    private readonly LockedCheck _check = new(environment);

    public async Task<VerifyResult> VerifyAsync(VerifyInput input, InvocationContext context)
    {
        var now = environment.Time.GetUtcNow();
        var report = await _check.RunAsync(new CheckOptions
        {
            ReadData = Selection(input, now),
            Parallelism = _settings.Parallelism,
            Snapshots = input.DataOnly != true,
        }, context);
        return new VerifyResult(now, report.ReadSelection, report.Snapshots, report.Packs, report.Blobs, report.PacksSelected,
            report.PacksRead, report.PacksLeft, report.BytesRead, [.. report.Warnings.Select(w => w.Message)]);
    }

    private PackSelection Selection(VerifyInput input, DateTimeOffset now)
    {
        if (input.Deep == true || input.Slice is null && input.Slices is null) return NightlyShare.Choose(input.Deep, input.CycleDays, now, _settings);
        if (input.Slice is not { } slice || input.Slices is not { } slices || slices < 1 || slice < 1 || slice > slices)
            throw new InvalidInputException("invalid input at $.slice: slice and slices go together, with 1 <= slice <= slices");
        return PackSelection.Slice(slice, slices);
    }
}
