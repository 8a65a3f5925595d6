using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Backups.Aws.Secrets;
using Backups.Core.Retention;
using Backups.Core;
using Backups.Core.Repositories;
using Backups.Core.Settings;

namespace BackupAgent.Run;

/// <summary>The nightly job: one repository, several sources, each becoming its own snapshot tagged with its name.</summary>
public sealed class RunConfig
{
    /// <summary>The postgres-cluster source named, or the only one.</summary>
    public SourceConfig ClusterSource(string? name)
    {
        var clusters = Sources.Where(s => s.Kind == SourceKind.PostgresCluster && (name == null || s.Name == name)).ToList();
        return clusters.Count == 1 ? clusters[0] : throw new ConfigException("$.sources", name != null
            ? $"no postgres-cluster source is named '{name}'"
            : clusters.Count == 0 ? "no source is of kind postgres-cluster" : "several postgres-cluster sources: name one with --source");
    }

    [JsonPropertyName("repository")] public string? Repository { get; set; }
    [JsonPropertyName("password")] public SecretRef? Password { get; set; }
    /// <summary>restic's --cacert, for an S3-compatible store with its own certificate authority.</summary>
    [JsonPropertyName("cacert")] public string? CaCert { get; set; }
    /// <summary>restic's -o options as key=value strings (s3.connections=N).</summary>
    [JsonPropertyName("options")] public List<string> Options { get; set; } = [];
    [JsonPropertyName("host")] public string? Host { get; set; }
    /// <summary>How many sources run at once; they share one upload pipeline.</summary>
    [JsonPropertyName("concurrency")] public int Concurrency { get; set; } = 2;
    [JsonPropertyName("heartbeat_seconds")] public int HeartbeatSeconds { get; set; } = 60;
    [JsonPropertyName("sources")] public List<SourceConfig> Sources { get; set; } = [];
    /// <summary>When `drill --when-due` drills: daily, weekly (Sundays, UTC), monthly (the 1st, UTC) or never.</summary>
    [JsonPropertyName("drill_cadence")] public string DrillCadence { get; set; } = "weekly";
    /// <summary>Policies of snapshots with a tag, whatever their source (a manual run before a deploy tags
    /// pre-deploy): kept by the tag's policy, apart from the nightly ones. <c>{}</c> gives no tag its own.</summary>
    [JsonPropertyName("tag_retention")] public Dictionary<string, RetentionPolicy> TagRetention { get; set; } = new()
    {
        ["pre-deploy"] = new RetentionPolicy { Within = RetentionDuration.Parse("90d") },
    };

    /// <summary>What the Retention step applies besides the workflow's global policy (the run's result carries it there).</summary>
    public SourcePolicies RetentionPolicies() => new()
    {
        Sources = Sources.Where(s => s.Retention != null).ToDictionary(s => s.Name!, s => s.Retention!),
        Tags = TagRetention,
    };

    /// <summary>
    /// What `run` does without --config: a local repository under ./.demo backed up from this folder, so a
    /// newcomer sees the whole job work without an AWS account or a database.
    /// </summary>
    public static RunConfig EmbeddedDefault() => new()
    {
        Repository = Path.Combine(".demo", "repository"),
        Password = new SecretRef { Value = "demo-only-password" },
        Sources =
        [
            new SourceConfig { Name = "project", Kind = SourceKind.Paths, Paths = ["."], Exclude = [".demo", ".git", "bin", "obj", "node_modules"] },
            new SourceConfig { Name = "system-info", Kind = SourceKind.Command, Command = ["uname", "-a"], Filename = "system-info.txt" },
        ],
    };

    /// <summary>The file this config came from and where its values are in it, for errors found after loading.</summary>
    [JsonIgnore] public ConfigSource? Source { get; private set; }

    public static RunConfig Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException("$", $"cannot read it: {e.Message}", path);
        }
        var source = ConfigSource.Parse(path, bytes);
        RunConfig config;
        try
        {
            config = JsonSerializer.Deserialize(bytes, RunJsonContext.Default.RunConfig)
                     ?? throw new ConfigException("$", "expected an object with repository, password and sources, not null");
            config.Validate();
        }
        catch (JsonException e)
        {
            throw source.Locate(ConfigErrors.Translate(e, source.Locations));
        }
        catch (ConfigException e)
        {
            throw source.Locate(e);
        }
        config.Source = source;
        return config;
    }

    /// <summary>
    /// Runs a job on this config: a config error found on the way (a secret that cannot be read) is pointed at
    /// its place in the file, and a repository that does not exist yet is said with the command that creates it.
    /// </summary>
    public async Task<T> GuardAsync<T>(Func<Task<T>> job)
    {
        try
        {
            return await job();
        }
        catch (ConfigException e) when (e.Where == null && Source != null)
        {
            throw Source.Locate(e);
        }
        catch (RepositoryException e) when (e.Kind == ErrorKind.RepositoryNotFound && Source != null)
        {
            throw new RepositoryException(ErrorKind.RepositoryNotFound,
                $"there is no repository at {Repository}; create it with: {ProgramInfo.Name} init --config {Source.Path}", e);
        }
    }

    /// <summary>The repository's settings but its password.</summary>
    public RepositorySettings RepositorySettings(PasswordSource password) =>
        new(Repository!, password) { CaCertFile = CaCert, Options = RepositoryOptions() };

    private ExtendedOptions RepositoryOptions()
    {
        try
        {
            return ExtendedOptions.None.With(Options);
        }
        catch (RepositoryException e)
        {
            throw new ConfigException("$.options", e.Message);
        }
    }

    /// <summary>Checks everything that can be checked before anything runs; the first problem names its field.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Repository))
            throw new ConfigException("$.repository", "required: where the backups go, a path or s3:s3.REGION.amazonaws.com/BUCKET/PREFIX");
        if (Password == null) throw new ConfigException("$.password", "required: the repository password as {\"env\": \"VAR\"}, {\"file\": \"/path\"}, {\"ssm\": \"/name\"} or {\"value\": \"...\"}");
        if (Password.Problem is { } problem) throw new ConfigException("$.password", problem);
        _ = RepositoryOptions();
        if (Concurrency is < 1 or > 16) throw new ConfigException("$.concurrency", "must be between 1 and 16");
        if (HeartbeatSeconds is < 1 or > 3600) throw new ConfigException("$.heartbeat_seconds", "must be between 1 and 3600");
        if (Sources.Count == 0) throw new ConfigException("$.sources", "at least one source is required");
        if (DrillCadence is not ("daily" or "weekly" or "monthly" or "never"))
            throw new ConfigException("$.drill_cadence", "must be daily, weekly, monthly or never");
        foreach (var (tag, policy) in TagRetention)
        {
            if (string.IsNullOrWhiteSpace(tag) || tag.Contains(',')) throw new ConfigException("$.tag_retention", $"'{tag}' is not a tag");
            RetentionPolicyField($"$.tag_retention.{tag}", policy);
        }
        var names = new HashSet<string>();
        for (var i = 0; i < Sources.Count; i++)
        {
            var at = $"$.sources[{i}]";
            Sources[i].Validate(at);
            if (!names.Add(Sources[i].Name!)) throw new ConfigException($"{at}.name", $"'{Sources[i].Name}' is used twice");
        }
    }

    /// <summary>A policy that keeps every snapshot must say so (<c>keep: all</c>), not be left empty by mistake.</summary>
    internal static void RetentionPolicyField(string at, RetentionPolicy policy)
    {
        if (policy.IsEmpty) throw new ConfigException(at, "set at least one keep rule (e.g. keep_daily), or keep: all");
    }
}

public enum SourceKind
{
    Postgres, Redis, Command, Paths,
    /// <summary>A whole cluster's base backup, for point-in-time recovery with the WAL archive.</summary>
    [JsonStringEnumMemberName("postgres-cluster")] PostgresCluster,
}

public sealed partial class SourceConfig
{
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("kind")] public SourceKind? Kind { get; set; }
    /// <summary>The file name of a streamed source in its snapshot (default NAME.dump, NAME.rdb or NAME).</summary>
    [JsonPropertyName("filename")] public string? Filename { get; set; }
    [JsonPropertyName("timeout_seconds")] public int TimeoutSeconds { get; set; } = 6 * 3600;
    [JsonPropertyName("tags")] public List<string>? Tags { get; set; }
    /// <summary>This source's retention (restic's keep rules, e.g. keep_daily, keep_monthly: "unlimited", or keep: all);
    /// without one the workflow's global policy applies.</summary>
    [JsonPropertyName("retention")] public RetentionPolicy? Retention { get; set; }
    /// <summary>How `backup-agent drill` tests this source's restores (postgres, redis and paths sources).</summary>
    [JsonPropertyName("drill")] public Drills.DrillConfig? Drill { get; set; }

    // postgres and redis
    [JsonPropertyName("host")] public string? Host { get; set; }
    [JsonPropertyName("port")] public int? Port { get; set; }
    [JsonPropertyName("password")] public SecretRef? Password { get; set; }
    // postgres; for postgres-cluster, the database whose rows the nightly run counts for the PITR drill (default postgres)
    [JsonPropertyName("database")] public string? Database { get; set; }
    [JsonPropertyName("user")] public string? User { get; set; }
    /// <summary>pg_dump's arguments before the connection options. The default is the custom format with
    /// pg_dump's own compression, as the seeds ran it: pg_restore reads it, the backup cuts it at each table's
    /// data so that unchanged tables and the unchanged start of a grown one deduplicate, and of the formats
    /// measured (tests/bench --case nightly) it adds the least a night.</summary>
    [JsonPropertyName("pg_dump_args")] public List<string>? PgDumpArgs { get; set; }
    // postgres-cluster
    /// <summary>How often the nightly run takes a base backup ("1d", "7d", "1m": restic's duration units y, m, d, h);
    /// on the other nights it only records the PITR drill's facts. Default daily.</summary>
    [JsonPropertyName("base_backup_every")] public string? BaseBackupEvery { get; set; }
    /// <summary>The recovery point objective: how old the newest archived WAL may be before the Freshness step
    /// fails. Default: the server's archive_timeout plus 5 minutes, or 15 minutes when archive_timeout is off.</summary>
    [JsonPropertyName("rpo_minutes")] public int? RpoMinutes { get; set; }
    // command
    [JsonPropertyName("command")] public List<string>? Command { get; set; }
    // paths
    [JsonPropertyName("paths")] public List<string>? Paths { get; set; }
    [JsonPropertyName("exclude")] public List<string>? Exclude { get; set; }

    public static readonly IReadOnlyList<string> DefaultPgDumpArgs = ["--format=custom"];

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex NamePattern();

    /// <summary>The kind as the config spells it.</summary>
    public string KindName => Kind == SourceKind.PostgresCluster ? "postgres-cluster" : Kind?.ToString().ToLowerInvariant() ?? "";

    public string SnapshotFilename => Filename ?? Kind switch
    {
        SourceKind.Postgres => $"{Name}.dump",
        SourceKind.Redis => $"{Name}.rdb",
        _ => Name!,
    };

    public void Validate(string at)
    {
        if (string.IsNullOrEmpty(Name)) throw new ConfigException($"{at}.name", "required");
        if (!NamePattern().IsMatch(Name)) throw new ConfigException($"{at}.name", $"'{Name}' must be letters, digits, '.', '_' or '-' (it becomes a tag and a file name)");
        if (Kind == null) throw new ConfigException($"{at}.kind", "required (postgres, postgres-cluster, redis, command or paths)");
        if (TimeoutSeconds < 1) throw new ConfigException($"{at}.timeout_seconds", "must be positive");
        if (Filename != null && (Filename.Length == 0 || Filename.Contains('/'))) throw new ConfigException($"{at}.filename", "must be a plain file name");
        if (Port is < 1 or > 65535) throw new ConfigException($"{at}.port", "must be between 1 and 65535");
        if (Password?.Problem is { } problem) throw new ConfigException($"{at}.password", problem);
        Drill?.Validate($"{at}.drill", Kind.Value);
        if (Retention != null) RunConfig.RetentionPolicyField($"{at}.retention", Retention);
        if (BaseBackupEvery != null) BaseBackupCadence.Parse($"{at}.base_backup_every", BaseBackupEvery);
        if (RpoMinutes is < 1) throw new ConfigException($"{at}.rpo_minutes", "must be a positive number of minutes");
        switch (Kind)
        {
            case SourceKind.Postgres when string.IsNullOrEmpty(Database):
                throw new ConfigException($"{at}.database", "required for a postgres source");
            case SourceKind.Command when Command is not { Count: > 0 } || string.IsNullOrEmpty(Command[0]):
                throw new ConfigException($"{at}.command", "required for a command source: the program and its arguments");
            case SourceKind.Paths when Paths is not { Count: > 0 }:
                throw new ConfigException($"{at}.paths", "required for a paths source");
        }
        foreach (var (field, kinds, value) in KindFields)
            if (value(this) != null && !kinds.Contains(Kind.Value))
                throw new ConfigException($"{at}.{field}", $"does not apply to a {KindName} source");
    }

    /// <summary>The fields that only some kinds take, so a misplaced one is reported instead of ignored.</summary>
    private static readonly (string Field, SourceKind[] Kinds, Func<SourceConfig, object?> Value)[] KindFields =
    [
        ("host", [SourceKind.Postgres, SourceKind.PostgresCluster, SourceKind.Redis], s => s.Host),
        ("port", [SourceKind.Postgres, SourceKind.PostgresCluster, SourceKind.Redis], s => s.Port),
        ("password", [SourceKind.Postgres, SourceKind.PostgresCluster, SourceKind.Redis], s => s.Password),
        ("database", [SourceKind.Postgres, SourceKind.PostgresCluster], s => s.Database),
        ("user", [SourceKind.Postgres, SourceKind.PostgresCluster], s => s.User),
        ("pg_dump_args", [SourceKind.Postgres], s => s.PgDumpArgs),
        ("command", [SourceKind.Command], s => s.Command),
        ("paths", [SourceKind.Paths], s => s.Paths),
        ("exclude", [SourceKind.Paths], s => s.Exclude),
        ("filename", [SourceKind.Postgres, SourceKind.Redis, SourceKind.Command], s => s.Filename),
        ("drill", [SourceKind.Postgres, SourceKind.Redis, SourceKind.Paths], s => s.Drill),
        ("base_backup_every", [SourceKind.PostgresCluster], s => s.BaseBackupEvery),
        ("rpo_minutes", [SourceKind.PostgresCluster], s => s.RpoMinutes),
    ];
}

/// <summary>A config problem, named by the JSON path of the field and, once known, the file, line and column
/// (<paramref name="where"/>: "/etc/backup-agent/config.json:7:21").</summary>
public sealed class ConfigException(string path, string problem, string? where = null)
    : Backups.Core.Repositories.ClassifiedException(Backups.Core.Repositories.ErrorKind.ConfigError,
        where == null ? $"config error at {path}: {problem}" : $"{where}: config error at {path}: {problem}")
{
    public string Path { get; } = path;
    public string Problem { get; } = problem;
    public string? Where { get; } = where;
}
