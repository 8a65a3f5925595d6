using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Backups.Tests.Support;
using static Bench.Measure;

namespace Bench;

/// <summary>
/// Nightly growth: a pgbench database plus a table with incompressible columns, changed a little each night
/// (rows appended, a small share of accounts updated), backed up once a night. Every variant backs up the same
/// database state into its own repository each night: restic fed by the seeds' `pg_dump -Fc | restic backup
/// --stdin`, and our postgres source with its default pg_dump arguments and alternatives. The figure that
/// counts is how much each night adds to the repository's data/ folder; what each program reports is printed too.
/// Where chunk boundaries fall (each repository's random chunker polynomial) decides how much of a changed
/// region is stored again, so each round gives every variant a repository with the round's one polynomial, and
/// the figures are means over the rounds.
/// </summary>
public static class NightlyBench
{
    /// <param name="UpdatePercent">The share of pgbench_accounts updated each night, at random rows.</param>
    /// <param name="Rounds">Repositories per variant, each round with its own chunker polynomial.</param>
    /// <param name="More">Also the exploratory variants: plain SQL dumps, and our `backup --stdin` at --compression max.</param>
    public sealed record Options(int Scale = 20, int Nights = 7, double UpdatePercent = 0.5, int Rounds = 3, bool More = false);

    private const string Database = "app";
    private const string Filename = "app.dump";
    private const string PgBin = PostgresServer.BinDirectory;

    /// <param name="PgDumpArgs">pg_dump's arguments before the connection options; null: our source's default.</param>
    /// <param name="Verify">Whether the last snapshot is restored with pg_restore at the end.</param>
    private sealed record Variant(string Name, Tool Tool, string[]? PgDumpArgs, bool Verify = false)
    {
        public bool Restic => Tool == Tool.Restic;
    }

    /// <summary>restic fed through a pipe; our postgres source through `run`; or pg_dump piped into our `backup --stdin --compression max`.</summary>
    private enum Tool { Restic, OursRun, OursStdinMax }

    private static readonly Variant[] Variants =
    [
        new("restic, -Fc (the seeds)", Tool.Restic, ["--format=custom"]),
        new("ours, default pg_dump_args (-Fc)", Tool.OursRun, null, Verify: true),
        new("ours, -Fc -Z0", Tool.OursRun, ["--format=custom", "--compress=0"]),
        new("ours, -Ft (tar)", Tool.OursRun, ["--format=tar"], Verify: true),
        new("restic, -Fc -Z0 (reference)", Tool.Restic, ["--format=custom", "--compress=0"]),
    ];

    private static readonly Variant[] MoreVariants =
    [
        new("ours, -Fp (plain; psql, not pg_restore)", Tool.OursRun, ["--format=plain"]),
        new("ours, -Fc -Z0, stdin --compression max", Tool.OursStdinMax, ["--format=custom", "--compress=0"]),
        new("ours, -Ft, stdin --compression max", Tool.OursStdinMax, ["--format=tar"]),
    ];

    /// <summary>One variant's repository in one round and what each night added.</summary>
    private sealed class Track(Variant variant, int round, string repo)
    {
        public Variant Variant { get; } = variant;
        public int Round { get; } = round;
        public string Repo { get; } = repo;
        public List<long> DiskGrowth { get; } = [];
        /// <summary>restic's data_added, our bytes_added: the new blobs before compression.</summary>
        public List<long> Added { get; } = [];
        /// <summary>Our bytes_stored: the new blobs as written (compressed, encrypted); restic 0.14 does not report it.</summary>
        public List<long> Stored { get; } = [];
        public List<double> Seconds { get; } = [];
        public long DumpBytes { get; set; }
        public long LastDataBytes { get; set; }
    }

    public static async Task RunAsync(string agent, string work, Options options)
    {
        var scale = options.Scale;
        var documents = 10_000 * scale;
        Console.WriteLine();
        Console.WriteLine($"nightly: pgbench -s {scale} ({100_000 * scale:N0} accounts) + documents ({documents:N0} rows of 256 random bytes " +
                          $"and an md5 text); {options.Nights} backups, one a night; {options.Rounds} rounds");
        Console.WriteLine($"  each night: +1% accounts and documents, {options.UpdatePercent.ToString(CultureInfo.InvariantCulture)}% of accounts " +
                          "updated at random rows (one pgbench_history row each)");

        await using var pg = await PostgresServer.StartAsync();
        var clock = Stopwatch.StartNew();
        await pg.CreateDatabaseAsync(Database);
        await pg.PgbenchInitAsync(Database, scale);
        await pg.ExecAsync(Database, $"""
            CREATE TABLE documents (id bigserial PRIMARY KEY, account_id integer NOT NULL, created timestamptz NOT NULL,
                                   digest text NOT NULL, body bytea NOT NULL);
            SELECT setseed(0.5);
            {InsertDocuments(documents, 100_000 * scale)}
            VACUUM ANALYZE documents;
            """);
        Console.WriteLine($"  setup: {clock.Elapsed.TotalSeconds:F0} s (PostgreSQL 15 on 127.0.0.1, fsync off); each round's repositories " +
                          "share one chunker polynomial (restic init --copy-chunker-params)");

        var variants = options.More ? [.. Variants, .. MoreVariants] : Variants;
        var rounds = new List<Track[]>();
        for (var r = 0; r < options.Rounds; r++)
        {
            var round = variants.Select((v, i) => new Track(v, r, Path.Combine(work, $"nightly-{r}-{i}"))).ToArray();
            // One chunker polynomial for the round's repositories: chunk boundaries (restic's, which ours follows)
            // then fall at the same places for every variant, and the figures compare formats, not luck.
            await InitAsync("restic", round[0].Repo);
            foreach (var t in round.Skip(1))
            {
                var env = RepoEnvironment(t.Repo);
                env["RESTIC_FROM_PASSWORD"] = Password;
                await Measure.RunAsync(["restic", "--no-cache", "init", "--from-repo", round[0].Repo, "--copy-chunker-params"], env: env);
            }
            rounds.Add(round);
        }

        for (var night = 1; night <= options.Nights; night++)
        {
            if (night > 1) await ChangeAsync(pg, night, scale, documents, options.UpdatePercent);
            foreach (var t in rounds.SelectMany(r => r))
            {
                var (seconds, added, stored, read) = t.Variant.Tool == Tool.OursRun ? await OursAsync(agent, pg, t) : await PipeAsync(agent, pg, t);
                var data = DataBytes(t.Repo);
                t.DiskGrowth.Add(data - t.LastDataBytes);
                t.LastDataBytes = data;
                t.Added.Add(added);
                t.Stored.Add(stored);
                t.Seconds.Add(seconds);
                t.DumpBytes = read;
            }
        }

        Print(variants, rounds, options.Nights);
        Console.WriteLine();
        foreach (var t in rounds[0].Where(t => t.Variant.Verify))
            await VerifyRestoreAsync(pg, t, work);
    }

    private static string InsertDocuments(int rows, int accounts) => $"""
        INSERT INTO documents (account_id, created, digest, body)
        SELECT 1 + (random() * {accounts - 1})::int, timestamptz '2026-01-01' + random() * interval '30 days', md5(random()::text),
               sha512(float8send(random())) || sha512(float8send(random())) || sha512(float8send(random())) || sha512(float8send(random()))
        FROM generate_series(1, {rows});
        """;

    /// <summary>A night's work: a share of the accounts updated at random (each leaving a history row), 1% more accounts and documents.</summary>
    private static Task ChangeAsync(PostgresServer pg, int night, int scale, int documents, double updatePercent)
    {
        var accounts = 100_000 * scale;
        return pg.ExecAsync(Database, $"""
            SELECT setseed({night / 100.0:F2});
            CREATE TEMP TABLE picked AS
                SELECT aid, bid, (random() * 10000)::int - 5000 AS delta FROM pgbench_accounts WHERE random() < {(updatePercent / 100).ToString(CultureInfo.InvariantCulture)};
            UPDATE pgbench_accounts a SET abalance = a.abalance + p.delta FROM picked p WHERE a.aid = p.aid;
            INSERT INTO pgbench_history (tid, bid, aid, delta, mtime)
                SELECT 1 + (random() * {10 * scale - 1})::int, bid, aid, delta,
                       timestamp '2026-01-01' + {night} * interval '1 day' + random() * interval '1 day' FROM picked;
            INSERT INTO pgbench_accounts (aid, bid, abalance, filler)
                SELECT s.m + g, 1 + (random() * {scale - 1})::int, 0, ''
                FROM (SELECT max(aid) AS m FROM pgbench_accounts) s, generate_series(1, {accounts / 100}) g;
            {InsertDocuments(documents / 100, accounts)}
            """);
    }

    private static Dictionary<string, string> PathEnvironment() =>
        new() { ["PATH"] = $"{PgBin}:{Environment.GetEnvironmentVariable("PATH")}" };

    /// <summary>The seeds' way: pg_dump piped through a shell into restic (or our `backup --stdin`), the database
    /// password in the environment.</summary>
    private static async Task<(double, long, long, long)> PipeAsync(string agent, PostgresServer pg, Track t)
    {
        var env = PathEnvironment();
        foreach (var (k, v) in pg.ClientEnvironment.Concat(RepoEnvironment(t.Repo))) env[k] = v;
        env["AGENT"] = agent;
        var consumer = t.Variant.Restic ? "restic --no-cache --json" : "\"$AGENT\" --json --compression max";
        var run = await Measure.RunAsync(
            ["bash", "-c", $"set -o pipefail; pg_dump \"$@\" --no-password --dbname={Database} | {consumer} backup --stdin --stdin-filename {Filename}",
             "bash", .. t.Variant.PgDumpArgs!], env: env);
        var summary = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Last(e => e.TryGetProperty("message_type", out var m) && m.GetString() == "summary");
        // restic 0.14 does not report what the new blobs take when stored; ours does (data_added_packed).
        var stored = summary.TryGetProperty("data_added_packed", out var packed) ? packed.GetInt64() : 0;
        return (run.Seconds, summary.GetProperty("data_added").GetInt64(), stored, summary.GetProperty("total_bytes_processed").GetInt64());
    }

    /// <summary>Our postgres source through `run --config`, as the nightly job runs it.</summary>
    private static async Task<(double, long, long, long)> OursAsync(string agent, PostgresServer pg, Track t)
    {
        var source = new Dictionary<string, object>
        {
            ["name"] = "app", ["kind"] = "postgres", ["host"] = pg.Host, ["port"] = pg.Port, ["user"] = pg.User,
            ["database"] = Database, ["password"] = new Dictionary<string, string> { ["value"] = pg.Password },
        };
        if (t.Variant.PgDumpArgs != null) source["pg_dump_args"] = t.Variant.PgDumpArgs;
        var config = t.Repo + ".json";
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["repository"] = t.Repo,
            ["password"] = new Dictionary<string, string> { ["value"] = Password },
            ["sources"] = new[] { source },
        }));
        var run = await Measure.RunAsync([agent, "--json", "run", "--config", config], env: PathEnvironment());
        var result = JsonDocument.Parse(run.Stdout).RootElement.GetProperty("sources")[0];
        if (!result.GetProperty("succeeded").GetBoolean()) throw new InvalidOperationException($"our run failed: {run.Stdout}");
        return (run.Seconds, result.GetProperty("bytes_added").GetInt64(), result.GetProperty("bytes_stored").GetInt64(),
            result.GetProperty("bytes_read").GetInt64());
    }

    private static void Print(Variant[] variants, List<Track[]> rounds, int nights)
    {
        // Per variant and night, the mean over the rounds; "mean" is over nights 2..N (night 1 is the first backup).
        List<double> PerNight(int v, Func<Track, List<long>> pick) =>
            Enumerable.Range(0, nights).Select(n => rounds.Average(r => (double)pick(r[v])[n])).ToList();
        double Mean(List<long> xs) => xs.Skip(1).Average();
        double MeanOf(IEnumerable<double> xs) => xs.Skip(1).Average();
        string Nights(List<double> xs) => string.Concat(xs.Select(x => $"{x / 1048576,8:F2}"));
        var nightHeader = string.Concat(Enumerable.Range(1, nights).Select(n => $"{"n" + n,8}"));
        var seeds = rounds.Select(r => Mean(r[0].DiskGrowth)).ToList();

        Console.WriteLine();
        Console.WriteLine($"growth of data/ on disk, MiB, mean of {rounds.Count} rounds (n1 = the first backup; mean over nights 2..{nights});");
        Console.WriteLine("  ratio = restic seeds' mean / this mean, then each round's own ratio; dump MiB = the last night's dump;");
        Console.WriteLine("  s/night = mean wall seconds of pg_dump and the backup together");
        Console.WriteLine($"{"variant",-52}{nightHeader} {"mean",8} {"ratio",7}  {"rounds",-20} {"dump MiB",8} {"s/night",7}");
        for (var v = 0; v < variants.Length; v++)
        {
            var growth = PerNight(v, t => t.DiskGrowth);
            var perRound = string.Join(' ', rounds.Select((r, i) => $"{seeds[i] / Mean(r[v].DiskGrowth):F2}"));
            Console.WriteLine($"{variants[v].Name,-52}{Nights(growth)} {MeanOf(growth) / 1048576,8:F2} " +
                              $"{seeds.Average() / MeanOf(growth),6:F2}x  {perRound,-20} {rounds[0][v].DumpBytes / 1048576.0,8:F1} " +
                              $"{rounds.Average(r => r[v].Seconds.Average()),7:F1}");
        }

        Console.WriteLine();
        Console.WriteLine("reported added, MiB, mean of the rounds: restic's data_added and our bytes_added (new blobs before compression),");
        Console.WriteLine("  our bytes_stored (the same blobs as written)");
        Console.WriteLine($"{"variant",-52}{nightHeader} {"mean",8}");
        for (var v = 0; v < variants.Length; v++)
        {
            var added = PerNight(v, t => t.Added);
            Console.WriteLine($"{variants[v].Name + (variants[v].Restic ? " data_added" : " bytes_added"),-52}{Nights(added)} {MeanOf(added) / 1048576,8:F2}");
        }
        for (var v = 0; v < variants.Length; v++)
        {
            if (variants[v].Restic) continue;
            var stored = PerNight(v, t => t.Stored);
            Console.WriteLine($"{variants[v].Name + " bytes_stored",-52}{Nights(stored)} {MeanOf(stored) / 1048576,8:F2}");
        }
    }

    /// <summary>The restore runbook with stock restic: dump our last snapshot, pg_restore it into a fresh database, compare row counts.</summary>
    private static async Task VerifyRestoreAsync(PostgresServer pg, Track ours, string work)
    {
        var file = Path.Combine(work, "restored.dump");
        await using (var output = File.Create(file))
            (await Processes.RunAsync("restic", ["--no-cache", "dump", "latest", "/" + Filename], RepoEnvironment(ours.Repo), stdout: output))
                .EnsureSuccess("restic dump");
        var target = $"restored_{Path.GetFileName(ours.Repo).Replace('-', '_')}";
        await pg.CreateDatabaseAsync(target);
        (await Processes.RunAsync(PostgresServer.Tool("pg_restore"), ["--no-owner", "--exit-on-error", $"--dbname={target}", file],
            pg.ClientEnvironment, timeout: TimeSpan.FromMinutes(10))).EnsureSuccess("pg_restore");
        var expected = await pg.RowCountsAsync(Database);
        var restored = await pg.RowCountsAsync(target);
        var equal = expected.Count == restored.Count && expected.All(kv => restored.GetValueOrDefault(kv.Key, -1) == kv.Value);
        Console.WriteLine($"restore check, {ours.Variant.Name}: `restic dump latest` | pg_restore into a fresh database: " +
                          $"{expected.Count} tables, {expected.Values.Sum():N0} rows, row counts {(equal ? "equal" : "DIFFER")}");
        File.Delete(file);
        await pg.ExecAsync("postgres", $"DROP DATABASE {target}");
        if (!equal)
            throw new InvalidOperationException("restored row counts differ: " +
                string.Join(", ", expected.Select(kv => $"{kv.Key} {kv.Value} vs {restored.GetValueOrDefault(kv.Key, -1)}")));
    }
}
