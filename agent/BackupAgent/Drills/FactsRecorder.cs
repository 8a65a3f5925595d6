using BackupAgent.Run;

namespace BackupAgent.Drills;

/// <summary>
/// Records a source's drill facts while its dump runs. Started before the dump program, finished after it
/// succeeded; disposing ends whatever it holds open (a PostgreSQL transaction).
/// </summary>
public abstract class FactsRecorder : IAsyncDisposable
{
    protected FactsRecorder(SourceConfig source) => Source = source;

    protected SourceConfig Source { get; }

    /// <summary>What the dump program must add to its arguments (pg_dump's --snapshot).</summary>
    public virtual IReadOnlyList<string> DumpArguments => [];

    /// <summary>
    /// null for kinds that have no facts (command and paths sources), and for a Redis server that refuses
    /// INFO to the backup's user (an ACL for replication only): that backup still runs, <paramref name="warn"/>
    /// is told, and its drill will say the snapshot has no facts.
    /// </summary>
    public static async Task<FactsRecorder?> StartAsync(SourceConfig source, string? password, Action<string> warn, CancellationToken ct)
    {
        switch (source.Kind)
        {
            case SourceKind.Postgres:
                return await PostgresFactsRecorder.StartAsync(source, PostgresConnection.Of(source, password), ct);
            case SourceKind.PostgresCluster:
                return new ClusterFactsRecorder(source, PostgresConnection.Of(source, password));
            case SourceKind.Redis:
                try
                {
                    return new RedisFactsRecorder(source, await RedisKeyspace.CountAsync(source.Host ?? "127.0.0.1", source.Port ?? 6379, password, ct));
                }
                catch (DrillStepException e)
                {
                    warn(e.Message);
                    return null;
                }
            default:
                return null;
        }
    }

    public abstract Task<DrillFacts> FinishAsync(CancellationToken ct);

    protected DrillFacts NewFacts() => new()
    {
        Source = Source.Name!, Kind = Source.KindName, Time = DateTimeOffset.Now,
    };

    public virtual ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>Redis: the key counts are read just before `redis-cli --rdb` asks for the snapshot.</summary>
internal sealed class RedisFactsRecorder(SourceConfig source, SortedDictionary<string, long> keys) : FactsRecorder(source)
{
    public override Task<DrillFacts> FinishAsync(CancellationToken ct)
    {
        var facts = NewFacts();
        facts.Keys = keys;
        return Task.FromResult(facts);
    }
}

/// <summary>
/// PostgreSQL: one REPEATABLE READ transaction in a psql child exports its snapshot, pg_dump dumps exactly that
/// snapshot (--snapshot), and the same transaction counts every table's rows meanwhile, so the counts describe
/// the dump's data exactly. A server that cannot export a snapshot (a standby) gets counts right after the dump.
/// </summary>
internal sealed class PostgresFactsRecorder : FactsRecorder
{
    private readonly PostgresConnection _connection;
    private readonly ChildProcess? _session;
    private readonly string? _snapshot;
    private readonly Task<string>? _counts;

    private PostgresFactsRecorder(SourceConfig source, PostgresConnection connection, ChildProcess? session, string? snapshot, Task<string>? counts)
        : base(source)
    {
        _connection = connection;
        _session = session;
        _snapshot = snapshot;
        _counts = counts;
    }

    public override IReadOnlyList<string> DumpArguments => _snapshot == null ? [] : [$"--snapshot={_snapshot}"];

    public static async Task<PostgresFactsRecorder> StartAsync(SourceConfig source, PostgresConnection connection, CancellationToken ct)
    {
        var session = ChildProcess.Start("psql", connection.PsqlArguments, connection.Environment);
        try
        {
            var snapshot = await QueryLineAsync(session, "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT pg_export_snapshot();", ct);
            if (snapshot == null)
            {
                session.Dispose();
                return new PostgresFactsRecorder(source, connection, null, null, null);
            }
            // Counted while pg_dump runs: the transaction sees its own snapshot whatever pg_dump and others do.
            var counts = QueryLineAsync(session, PostgresConnection.RowCountsSql, ct);
            return new PostgresFactsRecorder(source, connection, session, snapshot, counts!);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>One line of output; null when psql ended instead (an error, which ON_ERROR_STOP makes final).</summary>
    private static async Task<string?> QueryLineAsync(ChildProcess session, string sql, CancellationToken ct)
    {
        await session.InputWriter.WriteLineAsync(sql.AsMemory(), ct);
        await session.InputWriter.FlushAsync(ct);
        return await session.Output.ReadLineAsync(ct);
    }

    public override async Task<DrillFacts> FinishAsync(CancellationToken ct)
    {
        var facts = NewFacts();
        facts.SameSnapshot = _counts != null;
        var json = _counts != null ? await _counts : await _connection.QueryAsync(PostgresConnection.RowCountsSql, "counting rows", ct);
        if (json == null) throw new DrillStepException($"counting rows in the dump's snapshot: psql ended: {_session!.StderrTail}");
        facts.Tables = PostgresConnection.ParseRowCounts(json);
        return facts;
    }

    public override async ValueTask DisposeAsync()
    {
        if (_session == null) return;
        try
        {
            // Closing psql's input ends the transaction (read-only: nothing to commit) and psql with it.
            _session.Input.Close();
            await _session.WaitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is IOException or TimeoutException)
        {
            // Killed below.
        }
        _session.Dispose();
    }
}

/// <summary>
/// A whole cluster: what a base backup holds is no moment worth comparing, so the facts are taken after it, at a
/// moment of their own that the PITR drill recovers to through the archived WAL. One REPEATABLE READ
/// transaction counts every table of the source's database; the moment is its first statement's
/// statement_timestamp(), taken just before its snapshot (a commit landing between the two, microseconds
/// apart, is the only way the counts can differ from the recovered ones). A transaction with an id commits
/// right after, so that even an idle server's WAL holds a commit later than the moment: recovery to a time
/// stops at the first commit past it, and PostgreSQL refuses a recovery that ends before its target.
/// </summary>
internal sealed class ClusterFactsRecorder(SourceConfig source, PostgresConnection connection) : FactsRecorder(source)
{
    private const string MomentSql = """
        BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
        SELECT json_build_object('moment', (extract(epoch FROM statement_timestamp()) * 1000000)::bigint, 'role', current_user,
               'database', current_database(), 'archive_timeout', (SELECT setting::int FROM pg_settings WHERE name = 'archive_timeout'));
        """;

    public override async Task<DrillFacts> FinishAsync(CancellationToken ct)
    {
        var lines = (await connection.QueryAsync($"{MomentSql}\n{PostgresConnection.RowCountsSql}\nCOMMIT;\nSELECT pg_current_xact_id();",
            "recording the cluster's row counts", ct)).Split('\n');
        if (lines.Length < 2) throw new DrillStepException($"recording the cluster's row counts: psql printed {lines.Length} lines");
        using var moment = System.Text.Json.JsonDocument.Parse(lines[0]);
        var root = moment.RootElement;
        var facts = NewFacts();
        facts.SameSnapshot = true;
        facts.Moment = DateTimeOffset.UnixEpoch.AddTicks(root.GetProperty("moment").GetInt64() * 10);
        facts.Role = root.GetProperty("role").GetString();
        facts.Database = root.GetProperty("database").GetString();
        facts.ArchiveTimeoutSeconds = root.GetProperty("archive_timeout").GetInt32();
        facts.Tables = PostgresConnection.ParseRowCounts(lines[1]);
        return facts;
    }
}
