using System.Text.RegularExpressions;
using BackupAgent.Drills;
using Backups.Core.FileSystem;
using Backups.Core.Repositories;
using Backups.Core.Restoring;
using Backups.Core.Snapshots;
using Backups.Core.Wal;
using Repo = Backups.Core.Repositories.Repository;

namespace BackupAgent.Pitr;

/// <summary>Where a started recovery stopped, as the server's log says.</summary>
public sealed record RecoveryResult(string BaseSnapshot, string? ReachedTime, string? ReachedLsn);

/// <summary>
/// Point-in-time recovery of a cluster into an empty data directory: the newest base backup before the target
/// is restored, recovery is configured to fetch WAL from the archive (restore_command = wal-fetch through the
/// archiver's socket) and to stop at the target; with <c>start</c>, a temporary server on a free port replays
/// to the target (fetching through a socket this process serves) and is stopped once it is promoted.
/// Everything that can be known before writing is checked before writing: the target against the base backups
/// and the archive, and the whole WAL chain the replay needs.
/// </summary>
public sealed partial class Recovery(Repo repo, string source, Action<string> log)
{
    public async Task<RecoveryResult> RunAsync(RecoveryTarget target, string dataDirectory, string socketPath, bool start, CancellationToken ct)
    {
        await repo.LoadIndexAsync(ct);
        var snapshots = await repo.LoadSnapshotsAsync(ct);
        var archive = await WalArchive.LoadAsync(repo, source, snapshots, ct);
        var (snapshot, facts) = await PlanAsync(target, snapshots, archive, ct);
        if (Directory.Exists(dataDirectory) && Directory.EnumerateFileSystemEntries(dataDirectory).Any())
            throw new RepositoryException(ErrorKind.OverwriteRefused, $"{dataDirectory} is not empty: recovery writes a whole data directory");

        log($"restoring base backup {snapshot.Id.Short} of {snapshot.Time:yyyy-MM-dd HH:mm:ss zzz} (WAL from {facts.Start}) into {dataDirectory}");
        Directory.CreateDirectory(dataDirectory);
        File.SetUnixFileMode(dataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await new Restorer(repo).RestoreAsync(snapshot.Tree, dataDirectory, ct);
        await ConfigureAsync(target, dataDirectory, socketPath, ct);
        if (!start) return new RecoveryResult(snapshot.Id.ToString(), null, null);

        using var dir = new DrillDirectory();
        var fetchSocket = dir.Combine("wal.sock");
        if (Environment.IsPrivilegedProcess)
            (await ChildProcess.RunAsync("chown", [$"{PostgresPrograms.OsUser}:", dir.Path], null, null, ct)).EnsureSucceeded("preparing the recovery's directory");
        using var stopServing = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var archiver = new WalArchiver(repo, source, null, null, log);
        var serving = archiver.RunAsync(fetchSocket, Environment.IsPrivilegedProcess ? PostgresPrograms.OsUser : null, stopServing.Token);
        try
        {
            await Task.WhenAny(archiver.Listening, serving);
            if (serving.IsCompleted) await serving;
            return await ReplayAsync(snapshot, dataDirectory, dir, fetchSocket, ct);
        }
        finally
        {
            await stopServing.CancelAsync();
            try { await serving; } catch (OperationCanceledException) { /* stopped */ }
        }
    }

    /// <summary>The base backup to start from; refuses a target outside what the repository can reach along the
    /// timelines the replay follows (<see cref="TimelinePath"/>), naming the first segment it would miss.</summary>
    private async Task<(Snapshot Snapshot, BaseBackupFacts Facts)> PlanAsync(RecoveryTarget target, List<Snapshot> snapshots, WalArchive archive, CancellationToken ct)
    {
        var bases = snapshots.Where(s => SnapshotSource.Of(s) == source && BaseBackupFacts.Of(s) != null)
            .Select(s => (Snapshot: s, Facts: BaseBackupFacts.Of(s)!)).OrderBy(b => b.Snapshot.Time).ToList();
        if (bases.Count == 0) throw new RepositoryException(ErrorKind.NotFound, $"the repository holds no base backup of {source}");
        var usable = bases.Where(b => target.Time is { } t ? b.Snapshot.Time <= t : target.Lsn is { } l ? b.Facts.Stop <= l : true).ToList();
        if (usable.Count == 0)
            throw new RepositoryException(ErrorKind.NotFound,
                $"{target} is before the oldest base backup of {source} (finished {bases[0].Snapshot.Time:yyyy-MM-dd HH:mm:ss zzz}, WAL {bases[0].Facts.Stop})");
        var chosen = usable[^1];
        var segmentSize = archive.SegmentSize ?? throw new RepositoryException(ErrorKind.NotFound, $"the repository holds no archived WAL of {source}");
        var path = await TimelinePath.LoadAsync(repo, archive, chosen.Facts.Timeline, segmentSize, ct);
        var first = WalFileName.SegmentOf(chosen.Facts.Timeline, chosen.Facts.Start, segmentSize).Number(segmentSize);
        var onPath = archive.Files.Values.Where(f => path.Reads(f.Name) && f.Name.Number(segmentSize) >= first).ToList();
        var newest = onPath.MaxBy(f => f.Name.Number(segmentSize));
        var newestWritten = onPath.Count == 0 ? (DateTimeOffset?)null : onPath.Max(f => f.Written);
        if (target.Time is { } time && (newest == null || time > newestWritten))
            throw new RepositoryException(ErrorKind.NotFound, $"{target} is after the newest archived WAL of {source} (" +
                (newest == null ? "none since the base backup" : $"{newest.Name}, written {newestWritten:yyyy-MM-dd HH:mm:ss zzz}") +
                $"): WAL segment {path.Segment(newest == null ? first : newest.Name.Number(segmentSize) + 1)} is missing");
        // The replay needs every segment from the base backup's start to the one that reaches the target.
        var last = target.Lsn is { } lsn ? lsn.Value / (ulong)segmentSize
            : target.Time is { } at ? onPath.Where(f => f.Written >= at).Min(f => f.Name.Number(segmentSize))
            : newest?.Name.Number(segmentSize) ?? first;
        last = Math.Max(last, chosen.Facts.Stop.Value / (ulong)segmentSize);
        if (archive.FirstMissing(path, first, last) is { } missing)
            throw new RepositoryException(ErrorKind.Damaged, $"WAL segment {missing} is missing from the archive of {source}: recovery to {target} cannot pass it");
        return chosen;
    }

    private static async Task ConfigureAsync(RecoveryTarget target, string dataDirectory, string socketPath, CancellationToken ct)
    {
        await File.AppendAllLinesAsync(Path.Combine(dataDirectory, "postgresql.auto.conf"),
        [
            "# point-in-time recovery by backup-agent pitr",
            $"restore_command = '{RestoreCommand(socketPath)}'",
            .. target.Settings,
        ], ct);
        await File.WriteAllTextAsync(Path.Combine(dataDirectory, "recovery.signal"), "", ct);
        if (Environment.IsPrivilegedProcess)
        {
            // The restore gave every file its recorded owner; what this process made goes to the same account.
            var owner = FileStat.Lstat(Path.Combine(dataDirectory, "PG_VERSION"));
            (await ChildProcess.RunAsync("chown", [$"{owner.Uid}:{owner.Gid}", dataDirectory, Path.Combine(dataDirectory, "recovery.signal")], null, null, ct))
                .EnsureSucceeded("giving the data directory to its owner");
        }
    }

    private async Task<RecoveryResult> ReplayAsync(Snapshot snapshot, string dataDirectory, DrillDirectory dir, string fetchSocket, CancellationToken ct)
    {
        var serverLog = dir.Combine("server.log");
        var port = LoopbackPort.Free();
        // pg_ctl hands -o to a shell; every path in it is ours, made without spaces or quotes.
        var started = await PostgresPrograms.AsOwnerAsync("pg_ctl", ["start", "-D", dataDirectory, "-l", serverLog, "-w", "-t", "3600",
            "-o", $"-k {dir.Path} -p {port} -c listen_addresses=127.0.0.1 -c archive_mode=off " +
                  $"-c restore_command='{RestoreCommand(fetchSocket)}'"], ct);
        var text = File.Exists(serverLog) ? await File.ReadAllTextAsync(serverLog, ct) : "";
        try
        {
            started.EnsureSucceeded("starting the recovering server");
            // pg_ctl -w returns once the server accepts (read-only) connections, mid-replay; the end is the log's
            // read-write "ready" line after promotion. The log is small: it is read often, so no time is lost waiting.
            var deadline = DateTime.UtcNow + TimeSpan.FromHours(1);
            while (!text.Contains("database system is ready to accept connections", StringComparison.Ordinal))
            {
                if (DateTime.UtcNow > deadline) throw new DrillStepException("recovery did not finish within an hour");
                await Task.Delay(20, ct);
                text = await File.ReadAllTextAsync(serverLog, ct);
            }
        }
        finally
        {
            await PostgresPrograms.AsOwnerAsync("pg_ctl", ["stop", "-D", dataDirectory, "-m", "fast", "-w", "-t", "120"], CancellationToken.None);
        }
        var time = LastTransaction().Match(text) is { Success: true } m ? m.Groups[1].Value
            : Stopping().Match(text) is { Success: true } s ? s.Groups[1].Value : null;
        var lsn = RedoDone().Match(text) is { Success: true } r ? r.Groups[1].Value : null;
        log($"recovered to {time ?? "(no transaction replayed)"} at WAL {lsn ?? "?"}");
        return new RecoveryResult(snapshot.Id.ToString(), time, lsn);
    }

    /// <summary>PostgreSQL's restore_command: this program's wal-fetch through the archiver at <paramref name="socket"/>.</summary>
    private static string RestoreCommand(string socket) => $"{Environment.ProcessPath ?? "backup-agent"} wal-fetch --socket {socket} %f %p";

    [GeneratedRegex(@"last completed transaction was at log time ([0-9][0-9:. +-]+)")]
    private static partial Regex LastTransaction();

    [GeneratedRegex(@"recovery stopping (?:before|after) \w+ of transaction \d+, time ([0-9][0-9:. +-]+)")]
    private static partial Regex Stopping();

    [GeneratedRegex(@"redo done at ([0-9A-F]+/[0-9A-F]+)")]
    private static partial Regex RedoDone();
}
