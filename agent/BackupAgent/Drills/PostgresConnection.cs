using System.Globalization;
using System.Text.Json;

namespace BackupAgent.Drills;

/// <summary>
/// How libpq programs reach one database: a host name or a Unix socket directory, and the password only in
/// PGPASSWORD (never an argument, which every user of the box could read in the process list).
/// </summary>
public sealed record PostgresConnection(string? Host, int? Port, string? User, string? Password, string Database)
{
    /// <summary>Every user table's exact row count, keyed by its quoted "schema"."table" name, as one JSON line.</summary>
    public const string RowCountsSql = """
        SELECT coalesce(json_object_agg(t.name, t.n ORDER BY t.name), '{}') FROM (
          SELECT format('%I.%I', schemaname, tablename) AS name,
                 (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', schemaname, tablename),
                                                      false, true, '')))[1]::text::bigint AS n
          FROM pg_tables WHERE schemaname <> 'information_schema' AND schemaname !~ '^pg_') t;
        """;

    /// <summary>The configured server and database of a postgres source.</summary>
    public static PostgresConnection Of(Run.SourceConfig source, string? password) =>
        new(source.Host, source.Port, source.User, password, source.Database ?? DefaultDatabase);

    /// <summary>Where a postgres-cluster source counts its rows when it names no database: the one every cluster has.</summary>
    public const string DefaultDatabase = "postgres";

    public PostgresConnection WithDatabase(string database) => this with { Database = database };

    /// <summary>Connection options for psql, pg_dump and pg_restore.</summary>
    public IEnumerable<string> Arguments =>
    [
        .. Host != null ? (string[])["--host", Host] : [],
        .. Port != null ? (string[])["--port", Port.Value.ToString(CultureInfo.InvariantCulture)] : [],
        .. User != null ? (string[])["--username", User] : [],
        "--no-password", $"--dbname={Database}",
    ];

    public IReadOnlyDictionary<string, string> Environment =>
        Password == null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["PGPASSWORD"] = Password };

    /// <summary>psql's options for machine-readable output that stops at the first error.</summary>
    public IEnumerable<string> PsqlArguments => ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", .. Arguments];

    /// <summary>Runs SQL through psql (over stdin, so any length) and returns what it printed.</summary>
    public async Task<string> QueryAsync(string sql, string what, CancellationToken ct)
    {
        var result = await ChildProcess.RunAsync("psql", PsqlArguments, Environment,
            async input =>
            {
                await using var w = new StreamWriter(input, leaveOpen: true);
                await w.WriteAsync(sql);
            }, ct);
        return result.EnsureSucceeded(what).Stdout.TrimEnd('\n');
    }

    public async Task<SortedDictionary<string, long>> RowCountsAsync(CancellationToken ct) =>
        ParseRowCounts(await QueryAsync(RowCountsSql, "counting rows", ct));

    public static SortedDictionary<string, long> ParseRowCounts(string json) =>
        new(JsonSerializer.Deserialize(json, DrillJsonContext.Default.DictionaryStringInt64) ?? [], StringComparer.Ordinal);

    /// <summary>A name for SQL, whatever it contains.</summary>
    public static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"") + "\"";
}
