using Backups.Core.Chunking;
using System.Collections.Concurrent;
using System.Diagnostics;
using BackupAgent.Drills;
using BackupAgent.Pitr;
using Backups.Core.Wal;
using Backups.Core;
using Backups.Core.Archiving;
using Backups.Core.Filtering;
using Backups.Core.Repositories;
using Backups.Core.Snapshots;
using Backups.Core.Trees;

namespace BackupAgent.Run;

/// <summary>Which sources to run and how to tag them (a manual run before a deploy adds e.g. pre-deploy).</summary>
public sealed record RunOptions(IReadOnlyList<string> OnlySources, IReadOnlyList<string> ExtraTags, bool CreateRepository);

/// <summary>
/// The night's work: every source streams into one shared upload pipeline (up to `concurrency` at once) and
/// gets its own snapshot, tagged with its name, once everything is stored. A source whose program fails,
/// is killed or times out gets no snapshot and is reported; the others still finish.
/// </summary>
public sealed class NightlyRun(RunConfig config, Secrets secrets, RunLog log)
{
    private readonly ConcurrentDictionary<string, (SourceStats Stats, Stopwatch Clock)> _running = new();

    public IEnumerable<(string Name, SourceStats Stats, TimeSpan Elapsed)> Running =>
        _running.Select(r => (r.Key, r.Value.Stats, r.Value.Clock.Elapsed));

    public async Task<RunResult> ExecuteAsync(RunOptions options, CancellationToken ct)
    {
        var started = DateTimeOffset.Now;
        var clock = Stopwatch.StartNew();
        var sources = Select(options.OnlySources);

        var (repo, sourcePasswords) = await RunStart.OpenAsync(config, secrets, sources, options.CreateRepository, ct);
        await using var _ = repo;

        var results = new SourceResult[sources.Count];
        var trees = new List<SavedSource>[sources.Count];
        // A cluster's base backup is taken on its cadence, which the repository's base backups tell.
        var snapshots = sources.Any(s => s.Source.Kind == SourceKind.PostgresCluster) ? await repo.LoadSnapshotsAsync(ct) : [];
        log.Info("run started", ("repository", repo.Backend.Location), ("sources", sources.Count));
        await using (var session = await BackupSession.StartAsync(repo, Math.Max(2, Environment.ProcessorCount), uploads: 2, ct))
        {
            using var gate = new SemaphoreSlim(config.Concurrency);
            await Task.WhenAll(sources.Select(async (s, n) =>
            {
                await gate.WaitAsync(ct);
                try
                {
                    (results[n], trees[n]) = await BackUpAsync(session, s.Source, sourcePasswords.GetValueOrDefault(s.Source), snapshots, ct);
                }
                finally
                {
                    gate.Release();
                }
            }));
            await session.FinishAsync(ct);
            for (var n = 0; n < sources.Count; n++)
                foreach (var t in trees[n])
                {
                    var source = sources[n].Source;
                    var snapshot = await session.WriteSnapshotAsync(BackupSession.NewSnapshot(t.Tree, t.Paths, t.Time, config.Host,
                        SnapshotSource.Tags(source.Name!, [.. t.Facts ?? [], .. source.Tags ?? [], .. options.ExtraTags]), source.Exclude ?? [], t.Parent), ct);
                    results[n].SnapshotId ??= snapshot.Id.ToString();
                    log.Info("snapshot saved", ("source", source.Name), ("snapshot", snapshot.Id.Short));
                }
        }

        var result = new RunResult
        {
            Repository = repo.Backend.Location,
            Host = config.Host ?? Environment.MachineName,
            Started = started,
            DurationSeconds = Math.Round(clock.Elapsed.TotalSeconds, 3),
            Sources = [.. results],
            FailedSources = [.. results.Where(r => !r.Succeeded).Select(r => r.Name)],
            Retention = config.RetentionPolicies(),
        };
        result.Succeeded = result.FailedSources.Count == 0;
        log.Info("run finished", ("succeeded", result.Succeeded), ("failed", string.Join(',', result.FailedSources)), ("seconds", result.DurationSeconds));
        return result;
    }

    private List<(SourceConfig Source, int Index)> Select(IReadOnlyList<string> only)
    {
        foreach (var name in only)
            if (config.Sources.All(s => s.Name != name)) throw new ConfigException("$.sources", $"no source is named '{name}'");
        return config.Sources.Select((s, i) => (s, i)).Where(s => only.Count == 0 || only.Contains(s.s.Name!)).ToList();
    }

    private async Task<(SourceResult, List<SavedSource>)> BackUpAsync(BackupSession session, SourceConfig source, string? password,
        IReadOnlyList<Snapshot> snapshots, CancellationToken ct)
    {
        var result = new SourceResult { Name = source.Name!, Kind = source.KindName };
        var stats = new SourceStats();
        var clock = Stopwatch.StartNew();
        var time = DateTimeOffset.Now;
        _running[source.Name!] = (stats, clock);
        log.Info("source started", ("source", source.Name), ("kind", result.Kind));
        List<SavedSource> saved = [];
        try
        {
            if (source.Kind == SourceKind.Paths)
            {
                var paths = Backup.AbsolutePaths(source.Paths!);
                var excludes = (source.Exclude ?? []).Select(e => new PathPattern(e)).ToList();
                using var stopCounting = CancellationTokenSource.CreateLinkedTokenSource(ct);
                var counting = Task.Run(() => stats.BytesTotal = SizeEstimate.Of(paths, excludes, stopCounting.Token), stopCounting.Token);
                var parent = await session.FindParentAsync(paths, config.Host, [source.Name!], ct);
                saved.Add(new(await session.SavePathsAsync(source.Paths!, excludes, parent, new ChangeDetection(), stats, ct), paths, time, parent?.Id));
                await stopCounting.CancelAsync();
                try { await counting; } catch (OperationCanceledException) { /* the backup finished first */ }
                // A file that vanished or could not be read is a warning, as in restic: the snapshot holds the rest,
                // and the night's later steps (verify, retention) still run.
                result.Succeeded = true;
                if (stats.Errors.Count > 0) result.Warnings = Warnings(stats.Errors);
            }
            else if (source.Kind == SourceKind.PostgresCluster)
            {
                if (BaseBackupCadence.WhyNotTonight(source, snapshots, DateTimeOffset.Now) is { } notDue)
                {
                    result.Skipped = notDue;
                    log.Info("base backup skipped", ("source", source.Name), ("why", notDue));
                }
                else saved.Add(await BaseBackupAsync(session, source, password, stats, ct));
                result.ExitStatus = 0;
                // The base backup is saved even when the facts fail below (the source fails): it is good without them.
                await using var recorder = await FactsRecorder.StartAsync(source, password, _ => { }, ct);
                var facts = await recorder!.FinishAsync(ct);
                var file = await session.SaveFileAsync(new MemoryStream(facts.Serialize()), DrillFacts.FileName(source.Name!), time, stats, ct);
                saved.Add(new(await session.SaveTreeAsync([file], stats, ct), ["/" + file.Name], DateTimeOffset.Now, null,
                    [PgSnapshots.FactsTag, PgSnapshots.RpoTag(RecoveryPointObjective.Of(source, facts))]));
                result.Succeeded = true;
            }
            else
            {
                await using var facts = await FactsRecorder.StartAsync(source, password,
                    problem => log.Warn("drill facts not recorded", ("source", source.Name), ("error", problem)), ct);
                using var process = SourceProcess.Start([.. Command(source), .. facts?.DumpArguments ?? []], SecretEnvironment(source, password), secrets.Redactor);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(source.TimeoutSeconds));
                using var kill = timeout.Token.Register(process.Kill);
                // A dump is cut where a pg_dump archive's tables begin (other output passes through as restic chunks it).
                var output = source.Kind is SourceKind.Postgres or SourceKind.Command ? await PgDumpSegments.OpenAsync(process.Output, ct) : process.Output;
                List<Node> files = [await session.SaveFileAsync(output, source.SnapshotFilename, time, stats, ct)];
                await process.EnsureSucceededAsync(timeout.IsCancellationRequested, source.TimeoutSeconds);
                // Beside the dump, not inside it: the dump stays byte for byte what the program wrote.
                if (facts != null)
                    files.Add(await session.SaveFileAsync(new MemoryStream((await facts.FinishAsync(ct)).Serialize()), DrillFacts.FileName(source.Name!), time, stats, ct));
                result.ExitStatus = 0;
                result.Succeeded = true;
                // The snapshot's path stays the dump's alone, so `--path /NAME.dump` filters keep working.
                saved.Add(new(await session.SaveTreeAsync(files, stats, ct), ["/" + files[0].Name], time, null));
            }
        }
        catch (SourceFailedException e)
        {
            result.Error = secrets.Redactor.Redact(e.Message);
            result.ExitStatus = e.ExitStatus;
            result.StderrTail = e.StderrTail;
        }
        catch (RepositoryException e) when (e.Kind is ErrorKind.NotFound or ErrorKind.InvalidArgument)
        {
            result.Error = secrets.Redactor.Redact(e.Message);
        }
        catch (DrillStepException e)
        {
            result.Error = secrets.Redactor.Redact($"recording drill facts: {e.Message}");
        }
        finally
        {
            _running.TryRemove(source.Name!, out _);
        }
        result.BytesRead = stats.BytesRead;
        result.BytesAdded = stats.BytesAdded;
        result.BytesStored = stats.BytesStored;
        result.Files = stats.Files;
        result.DurationSeconds = Math.Round(clock.Elapsed.TotalSeconds, 3);
        if (result.Succeeded) log.Info("source finished", ("source", source.Name), ("bytes_read", result.BytesRead), ("bytes_added", result.BytesAdded), ("seconds", result.DurationSeconds));
        else log.Error("source failed", ("source", source.Name), ("error", result.Error), ("exit_status", result.ExitStatus));
        return (result, saved);
    }

    /// <summary>pg_basebackup's tar stream saved as the data directory's tree, tagged with what recovery needs.</summary>
    private async Task<SavedSource> BaseBackupAsync(BackupSession session, SourceConfig source, string? password, SourceStats stats, CancellationToken ct)
    {
        using var process = SourceProcess.Start(BaseBackup.Command(source), SecretEnvironment(source, password), secrets.Redactor);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(source.TimeoutSeconds));
        using var kill = timeout.Token.Register(process.Kill);
        (Id Tree, BaseBackupFacts Facts) backup;
        try
        {
            backup = await BaseBackup.SaveAsync(session, process.Output, stats, ct);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException)
        {
            // A stream cut short is pg_basebackup failing: its own words say more.
            await process.EnsureSucceededAsync(timeout.IsCancellationRequested, source.TimeoutSeconds);
            throw new SourceFailedException($"pg_basebackup's output cannot be read: {e.Message}", null, process.StderrTail);
        }
        var (tree, facts) = backup;
        await process.EnsureSucceededAsync(timeout.IsCancellationRequested, source.TimeoutSeconds);
        // Stamped when pg_basebackup is done: recovery can reach no moment before the backup's end.
        return new(tree, [PgSnapshots.BasePath(source.Name!)], DateTimeOffset.Now, null, [.. facts.Tags]);
    }

    private const int WarningsListed = 20;

    private static List<string> Warnings(IReadOnlyList<string> errors) => errors.Count <= WarningsListed ? [.. errors]
        : [.. errors.Take(WarningsListed), $"... and {errors.Count - WarningsListed} more"];

    /// <summary>What a source saved, for its snapshot once every pack and index is stored.</summary>
    private sealed record SavedSource(Id Tree, List<string> Paths, DateTimeOffset Time, Id? Parent, IReadOnlyList<string>? Facts = null);

    /// <summary>The program and its arguments; no secret is among them.</summary>
    private static List<string> Command(SourceConfig s) => s.Kind switch
    {
        SourceKind.Postgres => ["pg_dump", .. s.PgDumpArgs ?? SourceConfig.DefaultPgDumpArgs, .. PostgresConnection.Of(s, null).Arguments],
        SourceKind.Redis => ["redis-cli", "-h", s.Host ?? "127.0.0.1", "-p", (s.Port ?? 6379).ToString(), "--rdb", "-"],
        _ => [.. s.Command!],
    };

    /// <summary>Passwords reach pg_dump and redis-cli the way both document: in their environment.</summary>
    private static Dictionary<string, string> SecretEnvironment(SourceConfig s, string? password) =>
        password == null ? [] : s.Kind switch
        {
            SourceKind.Postgres or SourceKind.PostgresCluster => new() { ["PGPASSWORD"] = password },
            SourceKind.Redis => new() { ["REDISCLI_AUTH"] = password },
            _ => [],
        };
}
