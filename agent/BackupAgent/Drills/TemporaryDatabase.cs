using System.Security.Cryptography;

namespace BackupAgent.Drills;

/// <summary>Where a postgres drill restores; disposing removes it.</summary>
public interface IPostgresTarget : IAsyncDisposable
{
    PostgresConnection Connection { get; }
    string Description { get; }
}

/// <summary>
/// A database made for one drill on the source's own server (the source's user needs CREATEDB), named
/// drill_SOURCE_RANDOM so that a leftover is easy to recognise, and dropped with FORCE on dispose.
/// </summary>
public sealed class TemporaryDatabase : IPostgresTarget
{
    public const string Prefix = "drill_";
    private readonly PostgresConnection _maintenance;
    private bool _created;

    private TemporaryDatabase(PostgresConnection server, string name)
    {
        // Connected to the maintenance database to create and drop: one cannot drop the database one is in.
        _maintenance = server.WithDatabase("postgres");
        Connection = server.WithDatabase(name);
    }

    public PostgresConnection Connection { get; }
    public string Description => $"database {Connection.Database} on {Connection.Host ?? "the local server"}" + (Connection.Port is { } p ? $":{p}" : "");

    public static async Task<TemporaryDatabase> CreateAsync(PostgresConnection server, string sourceName, CancellationToken ct)
    {
        var safe = new string([.. sourceName.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_')]);
        var name = $"{Prefix}{safe[..Math.Min(safe.Length, 40)]}_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
        var database = new TemporaryDatabase(server, name);
        // Set first: a drill cancelled while CREATE DATABASE runs must still drop what may have been made.
        database._created = true;
        try
        {
            // template0: nothing a site added to template1 can collide with what the dump creates.
            await database._maintenance.QueryAsync($"CREATE DATABASE {PostgresConnection.QuoteIdentifier(name)} TEMPLATE template0", "creating the temporary database", ct);
            return database;
        }
        catch
        {
            try { await database.DisposeAsync(); } catch (DrillStepException) { /* the creation's own error is the one to report */ }
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_created) return;
        await _maintenance.QueryAsync($"DROP DATABASE IF EXISTS {PostgresConnection.QuoteIdentifier(Connection.Database)} WITH (FORCE)",
            "dropping the temporary database", CancellationToken.None);
    }
}
