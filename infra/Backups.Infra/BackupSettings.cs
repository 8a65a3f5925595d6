using System.Text.RegularExpressions;
using Amazon.CDK.AWS.Logs;
using Constructs;

namespace Backups.Infra;

/// <summary>
/// What differs between deployments, from CDK context (`cdk.json` or `cdk deploy -c key=value`). Anything
/// missing or malformed stops the synth with one line naming the key, before CloudFormation sees a template.
/// </summary>
public sealed partial record BackupSettings
{
    /// <summary>The EC2 instance that runs backup-agent (registered with SSM).</summary>
    public required string InstanceId { get; init; }
    /// <summary>A name for the box in emails and alarms.</summary>
    public required string HostName { get; init; }
    public required string BackupBucketName { get; init; }
    /// <summary>The seeds' releases and assets buckets, made only when named (nothing of the backups uses them).</summary>
    public string? ReleasesBucketName { get; init; }
    public string? AssetsBucketName { get; init; }
    /// <summary>The role of the instance profile the box already has, to attach the agent's policy to instead of
    /// making a profile (an instance has one profile at most).</summary>
    public string? InstanceRoleName { get; init; }
    /// <summary>The repository's folder in the backup bucket.</summary>
    public required string RepositoryPrefix { get; init; }
    /// <summary>The SecureString parameter holding the repository password (created out of band).</summary>
    public required string PasswordParameter { get; init; }
    /// <summary>Further SecureString parameters the agent reads (database and Redis passwords).</summary>
    public required IReadOnlyList<string> AgentParameters { get; init; }
    /// <summary>An optional SecureString parameter holding a Slack or Discord webhook URL.</summary>
    public string? WebhookParameter { get; init; }
    public required string NotifyFrom { get; init; }
    public required IReadOnlyList<string> NotifyTo { get; init; }
    public required string AgentConfigPath { get; init; }
    public required string AgentPath { get; init; }
    /// <summary>The folder holding the functions' `bootstrap` (functions/build.sh writes it).</summary>
    public required string FunctionsPath { get; init; }
    /// <summary>The backup-agent binary for the box's architecture (agent/build.sh writes it), published by the stack
    /// and installed on the box by the SSM document.</summary>
    public required string AgentBinary { get; init; }
    public required RetentionDays LogRetention { get; init; }
    /// <summary>Object Lock's default governance retention on the backup bucket, in days: how long every object
    /// version (a pack, a snapshot, a pruned pack's old version) is kept at least, whoever deletes it.</summary>
    public required int LockDays { get; init; }
    /// <summary>The storage class data packs move to (S3's names: GLACIER_IR, STANDARD_IA), or "none" to keep
    /// them in STANDARD. Classes whose objects must be restored before a GET (GLACIER, DEEP_ARCHIVE) are refused:
    /// restic, restores and the nightly drills read packs directly (see README, "What it costs").</summary>
    public required string ColdStorageClass { get; init; }
    /// <summary>Days after its upload that a data pack moves to <see cref="ColdStorageClass"/>.</summary>
    public required int ColdAfterDays { get; init; }
    /// <summary>Days after it became noncurrent (prune or forget deleted it) that an object version expires; at
    /// least <see cref="LockDays"/>, since Object Lock keeps it until then anyway.</summary>
    public required int NoncurrentVersionDays { get; init; }
    /// <summary>Days over which the nightly verification reads every pack once (check's --read-data-rotate): each
    /// cycle retrieves every cold data pack once, which the cold class bills per GB (README, "What it costs").</summary>
    public required int VerifyCycleDays { get; init; }
    /// <summary>The most of the night's verification share one Verify invocation is planned to read, in GiB.</summary>
    public required long VerifySliceGiB { get; init; }
    /// <summary>Verify invocations that read slices at once (the Map state's concurrency).</summary>
    public required int VerifyMaxConcurrency { get; init; }

    /// <summary>The offsite copy's destination, when there is one (context offsiteBucket).</summary>
    public OffsiteSettings? Offsite { get; init; }

    /// <summary>When the Offsite step copies: weekly (Sundays UTC), daily or never.</summary>
    public required string OffsiteCadence { get; init; }

    public static BackupSettings FromContext(Node node)
    {
        string? Optional(string key) => node.TryGetContext(key) switch
        {
            null => null,
            var v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) is { Length: > 0 } s ? s.Trim() : null,
        };
        string Required(string key, Regex? shape = null, string? what = null)
        {
            var value = Optional(key) ?? throw new SettingsException($"context value '{key}' is required (cdk deploy -c {key}=...)");
            if (shape != null && !shape.IsMatch(value)) throw new SettingsException($"context value '{key}' = '{value}' is not {what}");
            return value;
        }
        IReadOnlyList<string> List(string key) =>
            (Optional(key) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        IReadOnlyList<string> Each(string key, IReadOnlyList<string> values, Regex shape, string what)
        {
            foreach (var v in values)
                if (!shape.IsMatch(v)) throw new SettingsException($"context value '{key}' has '{v}', which is not {what}");
            return values;
        }
        string? OptionalShaped(string key, Regex shape, string what) => Optional(key) is { } v ? Each(key, [v], shape, what)[0] : null;
        // What the build scripts write: without them CDK's own error would be a stack trace about a missing asset.
        string Built(string key, string script, string? file = null)
        {
            var path = Required(key);
            var expected = file == null ? path : Path.Combine(path, file);
            return File.Exists(expected) ? path
                : throw new SettingsException($"context value '{key}': {Path.GetFullPath(expected)} does not exist: run {script} from the repository root first (or set -c {key}=...)");
        }
        const string parameter = "an SSM parameter name starting with /";
        const string bucket = "a valid S3 bucket name";

        var notifyTo = Each("notifyTo", List("notifyTo"), Email(), "an email address");
        if (notifyTo.Count == 0) throw new SettingsException("context value 'notifyTo' is required: comma-separated email addresses");
        var retention = Required("logRetentionDays");
        var lockDays = Required("objectLockDays");
        int Whole(string key, int min, int max)
        {
            var value = Required(key);
            return int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= min && n <= max ? n
                : throw new SettingsException($"context value '{key}' = '{value}' is not a whole number from {min} to {max}");
        }

        int WholeOr(string key, int fallback, int min, int max) => Optional(key) == null ? fallback : Whole(key, min, max);
        var lockDaysValue = int.TryParse(lockDays, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var period) && period is >= 1 and <= 3650 ? period
            : throw new SettingsException($"context value 'objectLockDays' = '{lockDays}' is not a number of days from 1 to 3650");
        var coldClass = (Optional("coldStorageClass") ?? "GLACIER_IR").ToUpperInvariant();
        if (coldClass is "GLACIER" or "DEEP_ARCHIVE" or "GLACIER_FLEXIBLE_RETRIEVAL")
            throw new SettingsException($"context value 'coldStorageClass' = '{coldClass}' is not offered: its objects must be restored (hours) before restic can read them, and restores and drills read packs directly; use GLACIER_IR");
        if (!ColdClasses.Contains(coldClass))
            throw new SettingsException($"context value 'coldStorageClass' = '{coldClass}' is not one of {string.Join(", ", ColdClasses)}");
        // S3 refuses a transition to STANDARD_IA earlier than 30 days after creation.
        var coldAfter = WholeOr("coldAfterDays", 30, coldClass == "STANDARD_IA" ? 30 : 0, 3650);

        return new BackupSettings
        {
            InstanceId = Required("instanceId", InstanceIdShape(), "an EC2 instance id (i-0123456789abcdef0)"),
            HostName = Required("hostName"),
            BackupBucketName = Required("backupBucket", BucketName(), bucket),
            ReleasesBucketName = OptionalShaped("releasesBucket", BucketName(), bucket),
            AssetsBucketName = OptionalShaped("assetsBucket", BucketName(), bucket),
            InstanceRoleName = OptionalShaped("instanceRoleName", RoleName(), "an IAM role name (without a path)"),
            RepositoryPrefix = Required("repositoryPrefix", Prefix(), "a folder name without leading or trailing /"),
            PasswordParameter = Required("passwordParameter", ParameterName(), parameter),
            AgentParameters = Each("agentParameters", List("agentParameters"), ParameterName(), parameter),
            WebhookParameter = OptionalShaped("webhookParameter", ParameterName(), parameter),
            NotifyFrom = Required("notifyFrom", Email(), "an email address"),
            NotifyTo = notifyTo,
            AgentConfigPath = Required("agentConfigPath"),
            AgentPath = Required("agentPath"),
            FunctionsPath = Built("functionsPath", "functions/build.sh", "bootstrap"),
            AgentBinary = Built("agentBinary", "agent/build.sh"),
            LogRetention = RetentionByDays.TryGetValue(retention, out var days) ? days
                : throw new SettingsException($"context value 'logRetentionDays' = '{retention}' is not one of CloudWatch's retention periods ({string.Join(", ", RetentionByDays.Keys)})"),
            LockDays = lockDaysValue,
            ColdStorageClass = coldClass,
            ColdAfterDays = coldAfter,
            NoncurrentVersionDays = WholeOr("noncurrentVersionDays", lockDaysValue, lockDaysValue, 3650),
            VerifyCycleDays = WholeOr("verifyCycleDays", 7, 1, 366),
            VerifySliceGiB = Whole("verifySliceGiB", 1, 1024),
            // Lambda's default account concurrency is 1,000; the other functions still need some.
            VerifyMaxConcurrency = Whole("verifyMaxConcurrency", 1, 100),
            Offsite = OptionalShaped("offsiteBucket", BucketName(), bucket) is { } offsiteBucket ? new OffsiteSettings(
                offsiteBucket,
                Optional("offsiteRegion"),
                Each("offsitePrefix", [Optional("offsitePrefix") ?? "restic"], Prefix(), "a folder name without leading or trailing /")[0],
                OptionalShaped("offsiteRoleArn", RoleArn(), "an IAM role ARN"),
                Each("offsitePasswordParameter", [Optional("offsitePasswordParameter") ?? Required("passwordParameter")], ParameterName(), parameter)[0])
                : null,
            OffsiteCadence = (Optional("offsiteCadence") ?? "weekly") switch
            {
                var cadence when cadence is "weekly" or "daily" or "never" => cadence,
                var other => throw new SettingsException($"context value 'offsiteCadence' = '{other}' is not weekly, daily or never"),
            },
        };
    }

    [GeneratedRegex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$")] private static partial Regex RoleArn();
    [GeneratedRegex("^[A-Za-z0-9+=,.@_-]{1,64}$")] private static partial Regex RoleName();
    [GeneratedRegex("^i-[0-9a-f]{8,17}$")] private static partial Regex InstanceIdShape();
    [GeneratedRegex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")] private static partial Regex BucketName();
    [GeneratedRegex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")] private static partial Regex Prefix();
    [GeneratedRegex("^/[A-Za-z0-9_.\\-/]+$")] private static partial Regex ParameterName();
    [GeneratedRegex("^[^@\\s,]+@[^@\\s,]+\\.[^@\\s,]+$")] private static partial Regex Email();

    private static readonly string[] ColdClasses = ["GLACIER_IR", "STANDARD_IA", "NONE"];

    private static readonly Dictionary<string, RetentionDays> RetentionByDays = new()
    {
        ["1"] = RetentionDays.ONE_DAY, ["3"] = RetentionDays.THREE_DAYS, ["5"] = RetentionDays.FIVE_DAYS, ["7"] = RetentionDays.ONE_WEEK,
        ["14"] = RetentionDays.TWO_WEEKS, ["30"] = RetentionDays.ONE_MONTH, ["60"] = RetentionDays.TWO_MONTHS,
        ["90"] = RetentionDays.THREE_MONTHS, ["180"] = RetentionDays.SIX_MONTHS, ["365"] = RetentionDays.ONE_YEAR,
        ["731"] = RetentionDays.TWO_YEARS, ["1827"] = RetentionDays.FIVE_YEARS, ["3653"] = RetentionDays.TEN_YEARS,
    };
}

/// <summary>
/// Where the Offsite step copies the repository. Without <paramref name="RoleArn"/> the stack creates the bucket
/// (in its own region) and the role the copier assumes; with one, the bucket and role belong to another account or
/// region, made there by its owner, and the stack only lets the copier assume that role.
/// </summary>
/// <param name="Region">The bucket's region; the stack's by default.</param>
/// <param name="PasswordParameter">The SecureString with the offsite repository's password (by default the
/// repository's own).</param>
public sealed record OffsiteSettings(string BucketName, string? Region, string Prefix, string? RoleArn, string PasswordParameter);

/// <summary>A deployment setting is missing or malformed.</summary>
public sealed class SettingsException(string message) : Exception(message);
