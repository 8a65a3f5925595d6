using System.Text.Json.Nodes;
using Amazon.CDK;
using Backups.Infra;
using Backups.Tests.Aws;
using Backups.Tests.Infra;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Workflow;

/// <summary>
/// Everything the workflow touches, real and on 127.0.0.1: PostgreSQL and Redis with data, s3rver over HTTPS for
/// the repository, aws-ses-v2-local for email, the agent's SSM document as the stack synthesizes it (pointing at
/// the built backup-agent and a config file here), the agent published to s3rver as the stack publishes it (the
/// document installs it from there when the box lacks it), and the functions' bootstrap.
/// </summary>
public sealed class WorkflowStack : IAsyncLifetime
{
    public const string Host = "api-box", Sender = "backups@acme.test", Recipient = "ops@acme.test";
    public const string RepositoryPassword = "repo-Secret-5b1e07", RedisPassword = "redis-Secret-77c2d1";

    private readonly TempDir _dir = new();
    public PostgresServer Postgres { get; private set; } = null!;
    public RedisServer Redis { get; private set; } = null!;
    public S3rverFixture S3 { get; } = new();
    public SesLocalFixture Ses { get; } = new();
    private JsonNode _document = null!;

    /// <summary>Where the built backup-agent is published on s3rver: the URL the document downloads it from.</summary>
    public string AgentUrl { get; private set; } = null!;

    /// <summary>Where the document's script finds the agent's config: each test writes the one it needs.</summary>
    public string ConfigPath => _dir.Combine("config.json");

    /// <summary>A new, empty directory for a test's own files.</summary>
    public string NewDirectory() => Directory.CreateDirectory(_dir.Combine($"files-{Guid.NewGuid():N}")).FullName;

    public async Task InitializeAsync()
    {
        await Task.WhenAll(S3.InitializeAsync(), Ses.InitializeAsync());
        Postgres = await PostgresServer.StartAsync();
        Redis = await RedisServer.StartAsync(RedisPassword);
        await Postgres.CreateDatabaseAsync("app");
        await Postgres.PgbenchInitAsync("app", scale: 1);
        await Redis.FillAsync(2000);

        _document = Document(Agent.Program);
        AgentUrl = await S3.PutObjectAsync($"agent/{Guid.NewGuid():N}/backup-agent", await File.ReadAllBytesAsync(Agent.Program));
    }

    /// <summary>The agent's SSM document as the stack synthesizes it for a box whose agent lives at
    /// <paramref name="agentPath"/>; the agent it publishes is the built one (Agent.Program).</summary>
    public JsonNode Document(string agentPath)
    {
        var context = new Dictionary<string, object>(SynthesizedStack.Context)
        {
            ["hostName"] = Host, ["agentPath"] = agentPath, ["agentConfigPath"] = ConfigPath, ["agentBinary"] = Agent.Program,
        };
        var app = new App(new AppProps { Context = context });
        var template = Amazon.CDK.Assertions.Template.FromStack(new BackupStack(app, "Backups", BackupSettings.FromContext(app.Node)));
        var resources = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(template.FindResources("AWS::SSM::Document")))!.AsObject();
        return resources.Single().Value!["Properties"]!["Content"]!.DeepClone();
    }

    /// <summary>A new, initialized repository on s3rver, and the agent config that backs up app-db and cache into it.</summary>
    /// <param name="extraSource">One more source's JSON object, appended to the config's sources.</param>
    /// <param name="retention">Per-source retention policies (JSON) by source name.</param>
    /// <param name="initialized">A repository on s3rver that is initialized already (with <see cref="RepositoryPassword"/>), to use instead.</param>
    public async Task<string> NewRepositoryAsync(string database = "app", string drill = "{}", string? extraSource = null,
        IReadOnlyDictionary<string, string>? retention = null, string? initialized = null)
    {
        var repository = initialized ?? S3.NewRepository();
        if (initialized == null)
            await new Agent(repository, RepositoryPassword, S3.CaCertPath, new Dictionary<string, string>(S3.Env)).RunOkAsync("init");
        await File.WriteAllTextAsync(ConfigPath, $$"""
            { "repository": "{{repository}}", "password": { "env": "TEST_REPOSITORY_PASSWORD" }, "cacert": "{{S3.CaCertPath}}",
              "host": "{{Host}}", "heartbeat_seconds": 1, "drill_cadence": "never",
              "sources": [
                { "name": "app-db", "kind": "postgres", "host": "{{Postgres.Host}}", "port": {{Postgres.Port}}, "user": "{{Postgres.User}}",
                  "database": "{{database}}", "password": { "env": "TEST_PG_PASSWORD" }, "drill": {{drill}} {{Retention("app-db")}} },
                { "name": "cache", "kind": "redis", "host": "{{Redis.Host}}", "port": {{Redis.Port}}, "password": { "env": "TEST_REDIS_PASSWORD" } {{Retention("cache")}} }
                {{(extraSource == null ? "" : "," + extraSource)}}
              ] }
            """);
        return repository;
        string Retention(string source) => retention?.GetValueOrDefault(source) is { } policy ? $", \"retention\": {policy}" : "";
    }

    /// <summary>What the agent runs with: s3rver's credentials and the secrets its config names.</summary>
    public Dictionary<string, string> AgentEnvironment => new(S3.Env)
    {
        ["AWS_REGION"] = S3rverFixture.Region,
        // The install step's curl trusts s3rver's certificate through it.
        ["CURL_CA_BUNDLE"] = S3.CaCertPath,
        ["TEST_REPOSITORY_PASSWORD"] = RepositoryPassword, ["TEST_PG_PASSWORD"] = Postgres.Password, ["TEST_REDIS_PASSWORD"] = RedisPassword,
    };

    /// <summary>Runs the real definition (statemachine/local/run.mjs) and returns its report.</summary>
    /// <param name="functionEnvironment">Further variables of the functions (e.g. VERIFY_SLICE_BYTES).</param>
    /// <param name="document">The agent's SSM document (<see cref="Document"/>); by default for the built agent where it is.</param>
    /// <param name="agentUrl">Where the document downloads the agent; by default <see cref="AgentUrl"/>.</param>
    /// <param name="agentEnvironment">Further variables of the agent (the secrets of a test's own sources).</param>
    public async Task<JsonObject> ExecuteAsync(JsonObject input, string repository, IReadOnlyDictionary<string, string>? functionEnvironment = null,
        JsonNode? document = null, string? agentUrl = null, IReadOnlyDictionary<string, string>? agentEnvironment = null)
    {
        var root = Path.GetFullPath(Path.Combine(TestStack.Directory, "..", ".."));
        var aws = new JsonObject
        {
            ["AWS_ACCESS_KEY_ID"] = S3rverFixture.AccessKey, ["AWS_SECRET_ACCESS_KEY"] = S3rverFixture.SecretKey,
            ["AWS_REGION"] = S3rverFixture.Region, ["AWS_DEFAULT_REGION"] = S3rverFixture.Region,
        };
        var bindings = new JsonObject
        {
            ["agent"] = new JsonObject
            {
                ["document"] = (document ?? _document).DeepClone(),
                // What CloudFormation would resolve: the published object's URL and its bucket's region.
                ["defaults"] = new JsonObject { ["AgentUrl"] = agentUrl ?? AgentUrl, ["AgentRegion"] = S3rverFixture.Region },
                ["env"] = new JsonObject([.. AgentEnvironment.Concat(agentEnvironment ?? new Dictionary<string, string>())
                    .Select(e => KeyValuePair.Create(e.Key, (JsonNode?)e.Value))]),
            },
            ["functions"] = new JsonObject
            {
                ["command"] = new JsonArray(Path.Combine(AppContext.BaseDirectory, "bootstrap")),
                ["handlers"] = new JsonObject
                {
                    ["VerifyPlan"] = "verifyPlan", ["VerifySlice"] = "verify", ["VerifyMerge"] = "verifyMerge",
                    ["Retention"] = "retention", ["Freshness"] = "freshness", ["Offsite"] = "offsite",
                    ["NotifySuccess"] = "notify", ["NotifyFailure"] = "notify",
                },
                ["env"] = Merge(aws, new JsonObject
                {
                    ["RESTIC_REPOSITORY"] = repository, ["RESTIC_PASSWORD"] = RepositoryPassword, ["RESTIC_CACERT"] = S3.CaCertPath,
                    ["AWS_ENDPOINT_URL_SESV2"] = Ses.Endpoint.ToString(), ["NOTIFY_SENDER"] = Sender, ["NOTIFY_RECIPIENTS"] = Recipient,
                    ["NOTIFY_SUCCESS_SUMMARY"] = "always", ["BACKUP_HOST"] = Host, ["BACKUP_LOG_GROUP"] = $"/backups/{Host}/agent",
                }, new JsonObject([.. (functionEnvironment ?? new Dictionary<string, string>()).Select(e => KeyValuePair.Create(e.Key, (JsonNode?)e.Value))])),
            },
        };
        var file = _dir.Combine($"bindings-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, bindings.ToJsonString());
        var r = await Processes.RunAsync("node",
            [Path.Combine(root, "statemachine", "local", "run.mjs"), "--definition", Path.Combine(root, "statemachine", "backup.asl.json"),
             "--bindings", file, "--input", input.ToJsonString()], timeout: TimeSpan.FromMinutes(4));
        r.EnsureSuccess("run.mjs");
        return JsonNode.Parse(r.StdoutText.Trim().Split('\n')[^1])!.AsObject();
    }

    public Restic Restic(string repository) => new(repository, RepositoryPassword, S3.CaCertPath, new Dictionary<string, string>(S3.Env));

    private static JsonObject Merge(params JsonObject[] objects)
    {
        var result = new JsonObject();
        foreach (var o in objects)
            foreach (var (k, v) in o) result[k] = v?.DeepClone();
        return result;
    }

    public async Task DisposeAsync()
    {
        await Postgres.DisposeAsync();
        await Redis.DisposeAsync();
        await S3.DisposeAsync();
        await Ses.DisposeAsync();
        _dir.Dispose();
    }
}
