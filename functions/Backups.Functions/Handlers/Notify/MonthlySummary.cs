using System.Globalization;
using System.Text;
using Backups.Core;
using Backups.Core.Backends;
using Backups.Core.Reporting;
using Backups.Core.Restoring;
using Backups.Core.Snapshots;
using Backups.Core.Trees;
using Backups.Functions.Contracts;
using Backups.Functions.Repositories;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Functions.Handlers.Notify;

/// <summary>
/// The month's summary. Cadence "monthly" (the default): the first execution of a calendar month (UTC, by its
/// start) that Notify reports on sends it, whether it succeeded or failed (a failure's email carries it under
/// the failure), and the run history (<see cref="RunHistory"/>) records per host that the month's summary went
/// out, so later runs of the month send none. When the run history cannot be read, the summary is due if the
/// repository holds no snapshot of the month taken before the execution started. "always" sends one after every
/// execution, "never" none.
/// </summary>
public static class MonthlySummary
{
    /// <summary>The deployment's cold tier (infra sets BACKUP_COLD_STORAGE_CLASS and BACKUP_COLD_AFTER_DAYS from its
    /// lifecycle settings), for the storage estimate.</summary>
    public sealed record ColdTier(string? StorageClass, int AfterDays)
    {
        public const string ClassVariable = "BACKUP_COLD_STORAGE_CLASS", DaysVariable = "BACKUP_COLD_AFTER_DAYS";
    }

    public const string CadenceVariable = "NOTIFY_SUCCESS_SUMMARY";

    /// <param name="runs">The run history, or null when it could not be read.</param>
    public static string? NotDueReason(string cadence, RunHistory? runs, SourceHistory history, string host, DateTimeOffset executionStart)
    {
        var monthStart = new DateTimeOffset(executionStart.UtcDateTime.Year, executionStart.UtcDateTime.Month, 1, 0, 0, 0, TimeSpan.Zero);
        return cadence switch
        {
            "always" => null,
            "never" => $"{CadenceVariable} is never",
            _ when runs != null => runs.SummaryOf(host, executionStart) is { } sent
                ? $"the summary for {monthStart.ToString("MMMM yyyy", CultureInfo.InvariantCulture)} was sent on {sent.At.UtcDateTime:yyyy-MM-dd HH:mm} UTC"
                : null,
            _ => history.Snapshots.FirstOrDefault(s => s.Time >= monthStart && s.Time < executionStart) is { } earlier
                ? $"not the month's first run (snapshot {earlier.Id.Short} from {earlier.Time.UtcDateTime:yyyy-MM-dd HH:mm} UTC; the run history could not be read)"
                : null,
        };
    }

    /// <summary>Per source: latest snapshot, its size (the files in it) and the growth since the latest snapshot
    /// before this month; then what the repository stores.</summary>
    public static async Task<Message> ComposeAsync(Repo repo, SourceHistory history, string host, NotifyInput input,
        NotifyLocations where, ColdTier cold, CancellationToken ct, string? preface = null)
    {
        var start = input.ExecutionStartTime!.Value.UtcDateTime;
        var monthStart = new DateTimeOffset(start.Year, start.Month, 1, 0, 0, 0, TimeSpan.Zero);
        await repo.LoadIndexAsync(ct);
        var body = new StringBuilder()
            .AppendLine($"Backups for {host} are running. Summary for {start.ToString("MMMM yyyy", CultureInfo.InvariantCulture)}:")
            .AppendLine();
        foreach (var source in history.Sources)
        {
            var latest = history.Latest(source)!;
            var size = await SizeAsync(repo, latest, ct);
            var before = history.LatestBefore(source, monthStart);
            var growth = before == null ? "new this month"
                : $"{Signed(size - await SizeAsync(repo, before, ct))} since {before.Time.UtcDateTime:yyyy-MM-dd}";
            body.AppendLine($"  {source}: snapshot {latest.Id.Short} at {latest.Time.UtcDateTime:yyyy-MM-dd HH:mm} UTC, {MiB(size)} ({growth})");
        }
        long stored = 0, packs = 0;
        await foreach (var (_, length) in repo.Backend.ListAsync(FileKind.Pack, ct))
        {
            stored += length;
            packs++;
        }
        body.AppendLine()
            .AppendLine($"Repository: {history.Snapshots.Count} snapshots, {MiB(stored)} stored in {packs} pack files (deduplicated, compressed).")
            .AppendLine();
        // The same figures as `backup-agent status`, as of the execution's start.
        var now = input.ExecutionStartTime!.Value;
        var statuses = await SourceStatuses.ComputeAsync(repo, history.Snapshots, now, ct);
        var cost = StorageCost.Estimate(await StorageCost.RepositoryBytesAsync(repo.Backend, ct), statuses, now, cold.AfterDays, cold.StorageClass);
        SummaryTable.AppendText(body, statuses, cost);
        body.AppendLine();
        var table = body.Length;
        where.AppendExecution(body, input);
        var subject = $"Backups OK: {host}, {start.ToString("MMMM yyyy", CultureInfo.InvariantCulture)}";
        return new Message(subject, body.ToString(), SummaryTable.Html(subject, statuses, cost, body.ToString(table, body.Length - table), preface));
    }

    private static async Task<long> SizeAsync(Repo repo, Snapshot snapshot, CancellationToken ct)
    {
        long total = 0;
        await foreach (var (_, node) in TreeWalker.WalkAsync(repo, snapshot.Tree, ct: ct))
            if (node.Type == Node.File) total += (long)node.Size;
        return total;
    }

    private static string MiB(long bytes) => $"{bytes / 1048576.0:0.0} MiB";

    private static string Signed(long bytes) => (bytes >= 0 ? "+" : "-") + MiB(Math.Abs(bytes));
}
