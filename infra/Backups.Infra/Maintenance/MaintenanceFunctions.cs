using Amazon.CDK;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.Lambda;
using Amazon.CDK.AWS.Logs;
using Amazon.CDK.AWS.S3;
using Amazon.CDK.AWS.SES;
using Backups.Infra.Secrets;
using Backups.Infra.Storage;
using Constructs;

namespace Backups.Infra.Maintenance;

/// <summary>
/// The Lambda functions that look after the repository once the agent has backed up: one AOT binary
/// (functions/build.sh) deployed seven times, each picking its handler by name. Each gets only the access its
/// handler uses.
/// </summary>
public sealed class MaintenanceFunctions : Construct
{
    public Function VerifyPlan { get; }
    public Function Verify { get; }
    public Function VerifyMerge { get; }
    public Function Retention { get; }
    public Function Freshness { get; }
    public Function Notify { get; }
    public Function Offsite { get; }

    /// <summary>The offsite copy's destination, when one is configured.</summary>
    public OffsiteStorage? OffsiteStorage { get; }

    public IReadOnlyDictionary<string, Function> ByHandler => new Dictionary<string, Function>
    {
        ["verifyPlan"] = VerifyPlan, ["verify"] = Verify, ["verifyMerge"] = VerifyMerge, ["retention"] = Retention, ["freshness"] = Freshness, ["notify"] = Notify,
        ["offsite"] = Offsite,
    };

    public MaintenanceFunctions(Construct scope, string id, BackupSettings settings, IBucket backups, EmailIdentity sender, string agentLogGroup)
        : base(scope, id)
    {
        var code = Code.FromAsset(settings.FunctionsPath);
        var repository = new RepositoryAccess(backups, settings.RepositoryPrefix);
        var environment = new Dictionary<string, string>
        {
            // The names restic would read, so the functions open the repository as restic does.
            ["RESTIC_REPOSITORY"] = $"s3:s3.{Stack.Of(this).Region}.{Stack.Of(this).UrlSuffix}/{backups.BucketName}/{settings.RepositoryPrefix}",
            ["RESTIC_PASSWORD_SSM_PARAMETER"] = settings.PasswordParameter,
            ["BACKUP_HOST"] = settings.HostName,
        };
        Function Create(string handler, int memoryMb, Duration timeout, Dictionary<string, string>? extra = null, bool readsRepository = true)
        {
            var name = char.ToUpperInvariant(handler[0]) + handler[1..];
            var logs = new LogGroup(this, name + "Logs", new LogGroupProps
            {
                Retention = settings.LogRetention,
                RemovalPolicy = RemovalPolicy.DESTROY,
            });
            var function = new Function(this, name, new FunctionProps
            {
                Runtime = Runtime.PROVIDED_AL2023,
                Architecture = Architecture.ARM_64,
                Handler = handler,
                Code = code,
                MemorySize = memoryMb,
                Timeout = timeout,
                LogGroup = logs,
                Environment = new Dictionary<string, string>(environment.Concat(extra ?? [])),
                Description = $"backups: {handler}",
            });
            if (!readsRepository) return function;
            repository.GrantList(function);
            Parameters.GrantRead(this, function, [settings.PasswordParameter]);
            return function;
        }

        // Verify fans out: VerifyPlan checks the structure and splits the night's packs into slices of
        // verifySliceGiB, a Map state runs Verify on each (verifyMaxConcurrency at a time), VerifyMerge adds up.
        // Each slice still sizes its read to its remaining time.
        var verifyEnvironment = new Dictionary<string, string>
        {
            ["VERIFY_SLICE_BYTES"] = (settings.VerifySliceGiB << 30).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["VERIFY_MAX_CONCURRENCY"] = settings.VerifyMaxConcurrency.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // Each cycle reads every data pack once, cold ones included, and a cold read is billed per GB.
            ["VERIFY_CYCLE_DAYS"] = settings.VerifyCycleDays.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        VerifyPlan = Create("verifyPlan", 1024, Duration.Minutes(15), verifyEnvironment);
        Verify = Create("verify", 1024, Duration.Minutes(15));
        foreach (var reader in new[] { VerifyPlan, Verify })
        {
            repository.Grant(reader, ["s3:GetObject"], "*");
            repository.Grant(reader, ["s3:PutObject", "s3:DeleteObject"], "locks/*");
        }
        VerifyMerge = Create("verifyMerge", 256, Duration.Minutes(1), readsRepository: false);

        // The only role that deletes repository files, and only in the four folders prune and forget change
        // (the bucket policy holds it to that too); config and keys/ are the operator's.
        Retention = Create("retention", 2048, Duration.Minutes(15));
        repository.Grant(Retention, ["s3:GetObject"], "*");
        repository.Grant(Retention, ["s3:PutObject", "s3:DeleteObject"], RepositoryAccess.WritableKeys);
        repository.Grant(Retention, ["s3:PutObjectTagging"], RepositoryAccess.TaggedKeys); // prune's repack writes data packs

        Freshness = Create("freshness", 512, Duration.Minutes(2));
        repository.Grant(Freshness, ["s3:GetObject"], "*");

        // The offsite copy reads the repository as Verify does and writes the destination only through the role it
        // assumes (see OffsiteFunction for why a function and not the box). Without a destination it reports
        // that it skipped.
        Offsite = Create("offsite", 2048, Duration.Minutes(15), new Dictionary<string, string> { ["OFFSITE_CADENCE"] = settings.OffsiteCadence });
        repository.Grant(Offsite, ["s3:GetObject"], "*");
        repository.Grant(Offsite, ["s3:PutObject", "s3:DeleteObject"], "locks/*");
        if (settings.Offsite is { } offsite)
        {
            OffsiteStorage = new OffsiteStorage(this, "OffsiteStorage", offsite, Offsite.Role!);
            Offsite.AddEnvironment("OFFSITE_REPOSITORY", OffsiteStorage.Repository);
            Offsite.AddEnvironment("OFFSITE_ROLE_ARN", OffsiteStorage.RoleArn);
            Offsite.AddEnvironment("OFFSITE_PASSWORD_SSM_PARAMETER", offsite.PasswordParameter);
            if (offsite.PasswordParameter != settings.PasswordParameter) Parameters.GrantRead(this, Offsite, [offsite.PasswordParameter]);
            Offsite.AddToRolePolicy(new PolicyStatement(new PolicyStatementProps { Actions = ["sts:AssumeRole"], Resources = [OffsiteStorage.RoleArn] }));
        }

        var notifyEnvironment = new Dictionary<string, string>
        {
            ["NOTIFY_SENDER"] = settings.NotifyFrom,
            ["NOTIFY_RECIPIENTS"] = string.Join(',', settings.NotifyTo),
            ["BACKUP_LOG_GROUP"] = agentLogGroup,
            // The monthly summary's storage estimate splits the repository as the lifecycle rule does.
            ["BACKUP_COLD_STORAGE_CLASS"] = settings.ColdStorageClass,
            ["BACKUP_COLD_AFTER_DAYS"] = settings.ColdAfterDays.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        // The agent's other secrets (database passwords) are read only to be masked in whatever Notify sends.
        string[] notifyReads = [.. settings.AgentParameters, .. settings.WebhookParameter is { } w ? new[] { w } : []];
        if (settings.WebhookParameter != null) notifyEnvironment["NOTIFY_WEBHOOK_URL_SSM_PARAMETER"] = settings.WebhookParameter;
        if (settings.AgentParameters.Count > 0) notifyEnvironment["NOTIFY_REDACT_SSM_PARAMETERS"] = string.Join(',', settings.AgentParameters);
        Notify = Create("notify", 512, Duration.Minutes(2), notifyEnvironment);
        repository.Grant(Notify, ["s3:GetObject"], "*");
        // The run history (status/, beside the repository's own folders): a new version per run, the oldest removed.
        repository.Grant(Notify, ["s3:PutObject", "s3:DeleteObject"], "status/*");
        if (notifyReads.Length > 0) Parameters.GrantRead(this, Notify, notifyReads);
        Notify.AddToRolePolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["ses:SendEmail"],
            Resources = [Stack.Of(this).FormatArn(new ArnComponents { Service = "ses", Resource = "identity", ResourceName = sender.EmailIdentityName })],
        }));
    }
}
