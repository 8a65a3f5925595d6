using System.Diagnostics;
using System.Globalization;
using BackupAgent.Run;
using Backups.Core;
using Backups.Core.Repositories;
using Backups.Core.Restoring;
using Backups.Core.Trees;
using Repo = Backups.Core.Repositories.Repository;

namespace BackupAgent.Drills;

/// <summary>
/// Restores a postgres source's dump into a throwaway database or cluster (streamed from the repository into
/// pg_restore, or psql for a plain-SQL dump), compares every table's rows with the recorded facts, runs the
/// user's SQL checks, and removes the target whatever happened.
/// </summary>
public static class PostgresDrill
{
    public static async Task RunAsync(Repo repo, Node dump, DrillFacts? facts, SourceConfig source, string? password, SourceDrill drill, CancellationToken ct)
    {
        var settings = source.Drill ?? new DrillConfig();
        IPostgresTarget target;
        try
        {
            target = settings.Target == DrillTarget.TemporaryCluster
                ? await TemporaryCluster.StartAsync(ct)
                : await TemporaryDatabase.CreateAsync(PostgresConnection.Of(source, password), source.Name!, ct);
        }
        catch (DrillStepException e)
        {
            drill.Check("target", false, message: e.Message);
            return;
        }
        try
        {
            drill.RestoredInto = target.Description;
            if (!await RestoreAsync(repo, dump, target.Connection, drill, ct)) return;
            if (facts?.Tables != null)
                drill.CompareCounts("rows", facts.Tables, await target.Connection.RowCountsAsync(ct), settings.TolerancePercent, absentIsZero: false);
            foreach (var check in settings.Checks) await RunCheckAsync(target.Connection, check, drill, ct);
        }
        finally
        {
            try
            {
                await target.DisposeAsync();
            }
            catch (DrillStepException e)
            {
                drill.Check("cleanup", false, message: e.Message);
            }
        }
    }

    private static async Task<bool> RestoreAsync(Repo repo, Node dump, PostgresConnection target, SourceDrill drill, CancellationToken ct)
    {
        var content = dump.Content ?? [];
        var clock = Stopwatch.StartNew();
        // The custom and tar formats go to pg_restore; anything else is plain SQL for psql.
        var head = content.Count > 0 ? await repo.LoadBlobAsync(BlobType.Data, content[0], ct) : [];
        var archive = head.AsSpan().StartsWith("PGDMP"u8) || (head.Length > 262 && head.AsSpan(257, 5).SequenceEqual("ustar"u8));
        var result = await ChildProcess.RunAsync(archive ? "pg_restore" : "psql",
            archive ? ["--no-owner", "--no-privileges", "--exit-on-error", .. target.Arguments] : target.PsqlArguments,
            target.Environment, input => ContentReader.CopyToAsync(repo, content, input, ct), ct);
        drill.RestoreSeconds = Math.Round(clock.Elapsed.TotalSeconds, 3);
        drill.RestoreBytes = (long)dump.Size;
        var passed = result.ExitCode == 0;
        drill.Check("restore", passed, "exit status 0", $"exit status {result.ExitCode}",
            passed ? null : $"{result.Program} exited with status {result.ExitCode}" + (result.Reason.Length > 0 ? $": {result.Reason}" : ""));
        return passed;
    }

    private static async Task RunCheckAsync(PostgresConnection target, SqlCheck check, SourceDrill drill, CancellationToken ct)
    {
        var expected = (check.Min, check.Max) switch
        {
            ({ } min, { } max) => $"between {min} and {max}",
            ({ } min, null) => $"at least {min}",
            (null, { } max) => $"at most {max}",
            _ => "",
        };
        string output;
        try
        {
            output = await target.QueryAsync(check.Sql, "the query failed", ct);
        }
        catch (DrillStepException e)
        {
            drill.Check(check.Name, false, expected, message: e.Message);
            return;
        }
        var first = output.Split('\n')[0].Split('|')[0].Trim();
        if (!double.TryParse(first, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
        {
            drill.Check(check.Name, false, expected, first, "the query must return one number");
            return;
        }
        var passed = (check.Min == null || value >= check.Min) && (check.Max == null || value <= check.Max);
        drill.Check(check.Name, passed, expected, first, passed ? null : $"{check.Sql.Trim()} returned {first}, expected {expected}");
    }
}
