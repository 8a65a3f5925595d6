using Amazon;
using Amazon.Runtime;
using Amazon.SecurityToken;
using Amazon.SecurityToken.Model;
using Backups.Core.Copying;
using Backups.Functions.Contracts;
using Backups.Functions.Repositories;
using Backups.Functions.Runtime;

namespace Backups.Functions.Handlers.Offsite;

/// <summary>
/// The workflow's Offsite step: restic's `copy` of every snapshot the offsite repository (another bucket, region or
/// account) lacks, on a cadence (OFFSITE_CADENCE: weekly, the default, on Sundays UTC like the drills; daily;
/// never).
/// </summary>
/// <remarks>
/// A Lambda function rather than the agent on the box (as StartBackup and StartDrill run): the point of an offsite
/// copy is to survive whoever owns the box, so the box must hold no credential that reaches it. The function reads
/// the repository with its own role and writes the destination with a role it assumes (OFFSITE_ROLE_ARN), which the
/// destination grants only what copy needs and nothing on the box can assume. The transfer also runs inside AWS,
/// not through the box's network. Lambda's 15 minutes do not bound the copy: copy is resumable, so an invocation
/// that runs out of time flushes what it copied and says so (complete: false), and the workflow invokes it again.
/// </remarks>
public sealed class OffsiteFunction(FunctionEnvironment environment)
{
    public const string CadenceVariable = "OFFSITE_CADENCE", RoleVariable = "OFFSITE_ROLE_ARN";
    public const string StalledError = ErrorNames.Prefix + "OffsiteStalled";

    // Packs are started until this long before the deadline (or a quarter of a shorter invocation's time); then
    // the packer's last packs, the index and the locks' removal must still fit.
    private static readonly TimeSpan FlushMargin = TimeSpan.FromMinutes(2);

    private readonly FunctionRepository _source = new(environment);

    public async Task<OffsiteResult> CopyAsync(OffsiteInput input, InvocationContext context)
    {
        var now = environment.Time.GetUtcNow();
        var when = input.When ?? "when-due";
        if (when is not ("when-due" or "now")) throw new InvalidInputException($"invalid input at $.when: expected when-due or now, not \"{when}\"");
        if (environment.Optional(FunctionRepository.Offsite.Restic.Repository) == null)
            return Skipped($"no offsite repository is configured ({FunctionRepository.Offsite.Restic.Repository})");
        var cadence = environment.Optional(CadenceVariable) ?? "weekly";
        var whyNot = cadence switch
        {
            "daily" => null,
            "weekly" => now.UtcDateTime.DayOfWeek == DayOfWeek.Sunday ? null : "offsite copies run weekly, on Sundays (UTC)",
            "never" => $"{CadenceVariable} is never",
            _ => throw new ConfigurationException($"{CadenceVariable} must be weekly, daily or never, not \"{cadence}\""),
        };
        if (whyNot != null && when != "now") return Skipped(whyNot);

        var destinationRepository = new FunctionRepository(environment, FunctionRepository.Offsite, await DestinationCredentialsAsync(context));
        await using var source = await _source.OpenAsync(context);
        await using var destination = await destinationRepository.OpenAsync(context);
        var stats = await Copier.CopyAsync(source, destination,
            new CopyOptions { StopAfter = context.Deadline - Min(FlushMargin, context.RemainingTime / 4), Time = context.TimeProvider },
            ct: context.CancellationToken);
        var copied = stats.Snapshots.Count(c => !c.AlreadyThere);
        // Another invocation would stop at the same place: say so rather than loop.
        if (!stats.Complete && copied == 0 && stats.BlobsCopied == 0)
            throw new FunctionFailure(StalledError, $"the offsite copy made no progress before its deadline ({stats.SnapshotsLeft} snapshots left)");
        return new OffsiteResult(true, null, destinationRepository.Location, copied, stats.Snapshots.Count - copied, stats.BlobsCopied,
            stats.BytesAdded, stats.Complete, stats.SnapshotsLeft);

        OffsiteResult Skipped(string why) => new(false, why, null, 0, 0, 0, 0, true, 0);
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>The assumed role's credentials for this invocation (a session outlives it), or the function's own
    /// when no role is configured (a destination in the same account that grants the function's role).</summary>
    private async Task<AWSCredentials?> DestinationCredentialsAsync(InvocationContext context)
    {
        if (environment.Optional(RoleVariable) is not { } role) return null;
        var config = new AmazonSecurityTokenServiceConfig { RegionEndpoint = RegionEndpoint.GetBySystemName(environment.Region) };
        if (environment.Endpoint("AWS_ENDPOINT_URL_STS") is { } endpoint) config.ServiceURL = endpoint.ToString();
        using var sts = environment.Credentials is { } own ? new AmazonSecurityTokenServiceClient(own, config) : new AmazonSecurityTokenServiceClient(config);
        var answer = await sts.AssumeRoleAsync(new AssumeRoleRequest { RoleArn = role, RoleSessionName = $"offsite-{context.RequestId}" },
            context.CancellationToken);
        var c = answer.Credentials;
        return new SessionAWSCredentials(c.AccessKeyId, c.SecretAccessKey, c.SessionToken);
    }
}
