using System.Diagnostics;
using BackupAgent.Run;
using Backups.Core.Locks;
using Backups.Core.Repositories;
using Backups.Core.Restoring;
using Backups.Core.Snapshots;
using Backups.Core.Trees;
using Backups.Core.Wal;
using Repo = Backups.Core.Repositories.Repository;

namespace BackupAgent.Drills;

/// <summary>
/// Restore drills: for each postgres, redis and paths source of a run config, its latest snapshot is restored
/// somewhere throwaway and compared with what the backup recorded; a postgres-cluster source is recovered to
/// the moment of its latest facts (<see cref="PitrDrill"/>). One source at a time (a drill measures
/// restore time, which sharing the machine would distort). A failed check fails the source, never the others.
/// </summary>
public sealed class DrillRun(RunConfig config, Secrets secrets, RunLog log)
{
    public async Task<DrillResult> ExecuteAsync(IReadOnlyList<string> onlySources, CancellationToken ct)
    {
        var started = DateTimeOffset.Now;
        var clock = Stopwatch.StartNew();
        var sources = Select(onlySources);
        var (repo, sourcePasswords) = await RunStart.OpenAsync(config, secrets, sources, createRepository: false, ct);
        await using var _ = repo;
        // Non-exclusive, as restic's restore: a concurrent prune must not delete the packs being read.
        await using var repoLock = await RepositoryLock.AcquireAsync(repo, exclusive: false, ct);
        await repo.LoadIndexAsync(ct);

        var result = new DrillResult { Repository = repo.Backend.Location, Started = started };
        foreach (var (source, _) in sources)
            result.Sources.Add(await DrillAsync(repo, source, sourcePasswords.GetValueOrDefault(source), ct));
        result.FailedSources = [.. result.Sources.Where(s => !s.Passed).Select(s => s.Name)];
        result.Passed = result.FailedSources.Count == 0;
        result.DurationSeconds = Math.Round(clock.Elapsed.TotalSeconds, 3);
        return result;
    }

    private List<(SourceConfig Source, int Index)> Select(IReadOnlyList<string> only)
    {
        foreach (var name in only)
        {
            var source = config.Sources.FirstOrDefault(s => s.Name == name) ?? throw new ConfigException("$.sources", $"no source is named '{name}'");
            if (source.Kind is SourceKind.Command)
                throw new ConfigException("$.sources", $"'{name}' is a {source.KindName} source: only postgres, postgres-cluster, redis and paths sources can be drilled");
        }
        return config.Sources.Select((s, i) => (s, i))
            .Where(s => s.s.Kind is not SourceKind.Command && (only.Count == 0 || only.Contains(s.s.Name!))).ToList();
    }

    private async Task<SourceDrill> DrillAsync(Repo repo, SourceConfig source, string? password, CancellationToken ct)
    {
        var drill = new SourceDrill { Name = source.Name!, Kind = source.KindName };
        log.Info("drill started", ("source", source.Name), ("kind", drill.Kind));
        try
        {
            // A cluster's latest snapshot is mostly a WAL batch: its drill starts from the nightly facts.
            var snapshot = await SnapshotFinder.FindAsync(repo, "latest",
                tags: source.Kind == SourceKind.PostgresCluster ? [source.Name!, PgSnapshots.FactsTag] : [source.Name!], ct: ct);
            drill.SnapshotId = snapshot.Id.ToString();
            drill.SnapshotTime = snapshot.Time;
            if (source.Kind == SourceKind.PostgresCluster)
                await PitrDrill.RunAsync(repo, await LoadFactsAsync(repo, snapshot, source, drill, ct), source, drill,
                    message => log.Info("recovery", ("source", source.Name), ("step", message)), ct);
            else if (source.Kind == SourceKind.Paths)
                await PathsDrill.RunAsync(repo, snapshot, source, drill, ct);
            else
            {
                var dump = await TreeWalker.FindAsync(repo, snapshot.Tree, "/" + source.SnapshotFilename, ct);
                var facts = await LoadFactsAsync(repo, snapshot, source, drill, ct);
                if (source.Kind == SourceKind.Postgres) await PostgresDrill.RunAsync(repo, dump, facts, source, password, drill, ct);
                else await RedisDrill.RunAsync(repo, dump, facts, source, drill, ct);
            }
        }
        catch (RepositoryException e) when (e.Kind is ErrorKind.NotFound or ErrorKind.Damaged)
        {
            drill.Check("snapshot", false, message: e.Message);
        }
        catch (Exception e) when (e is DrillStepException or IOException or UnauthorizedAccessException)
        {
            drill.Check("restore", false, message: e.Message);
        }
        drill.Error = drill.Error == null ? null : secrets.Redactor.Redact(drill.Error);
        foreach (var check in drill.Checks) check.Message = check.Message == null ? null : secrets.Redactor.Redact(check.Message);
        drill.Passed = drill.Checks.Count > 0 && drill.Checks.All(c => c.Passed);
        if (drill.Passed) log.Info("drill passed", ("source", source.Name), ("restore_seconds", drill.RestoreSeconds), ("restore_bytes", drill.RestoreBytes));
        else log.Error("drill failed", ("source", source.Name), ("error", drill.Error));
        return drill;
    }

    /// <summary>The facts the backup recorded beside the dump; a snapshot made before drills existed has none, which fails the drill.</summary>
    private static async Task<DrillFacts?> LoadFactsAsync(Repo repo, Snapshot snapshot, SourceConfig source, SourceDrill drill, CancellationToken ct)
    {
        var name = DrillFacts.FileName(source.Name!);
        Node node;
        try
        {
            node = await TreeWalker.FindAsync(repo, snapshot.Tree, "/" + name, ct);
        }
        catch (RepositoryException e) when (e.Kind == ErrorKind.NotFound)
        {
            drill.Check("facts", false, $"/{name} in the snapshot", "absent",
                $"snapshot {snapshot.Id.Short} has no /{name} (made before drills were recorded?); the next backup records it");
            return null;
        }
        using var json = new MemoryStream();
        await ContentReader.CopyToAsync(repo, node.Content ?? [], json, ct);
        try
        {
            return DrillFacts.Parse(json.ToArray());
        }
        catch (System.Text.Json.JsonException e)
        {
            drill.Check("facts", false, $"/{name} in the snapshot", "unreadable", $"/{name} is not valid: {e.Message}");
            return null;
        }
    }
}
