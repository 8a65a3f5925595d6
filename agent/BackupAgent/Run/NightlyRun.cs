using System.Diagnostics;
using Backups.Core.Archiving;
using Backups.Core.Backends;
using Backups.Core.Repository;
using Repo = Backups.Core.Repository.Repository;

namespace BackupAgent.Run;

/// <summary>
/// Backs up every configured source into its own snapshot, tagged with the source's name. A failing source
/// leaves no snapshot and is reported; the others still run.
/// </summary>
public static class NightlyRun
{
    public static async Task<RunResult> ExecuteAsync(RunConfig config, string password, bool createIfMissing, CancellationToken ct)
    {
        await using var backend = RepositoryLocation.Open(config.Repository, new BackendOptions());
        if (createIfMissing && await backend.StatAsync(FileHandle.Config, ct) == null)
            await (await Repo.InitAsync(backend, password, ct: ct)).DisposeAsync();
        var repo = await Repo.OpenAsync(backend, password, ct);
        var result = new RunResult { Repository = backend.Location };
        foreach (var source in config.Sources)
            result.Sources.Add(await BackUpAsync(repo, source, config.Host, ct));
        result.Succeeded = result.Sources.All(s => s.Succeeded);
        return result;
    }

    private static async Task<SourceResult> BackUpAsync(Repo repo, SourceConfig source, string? host, CancellationToken ct)
    {
        var result = new SourceResult { Name = source.Name, Kind = source.Kind };
        var started = Stopwatch.StartNew();
        var options = new BackupOptions { Host = host, Tags = [source.Name], Excludes = source.Exclude ?? [] };
        try
        {
            var backup = source.Kind switch
            {
                "paths" => await Backup.PathsAsync(repo, source.Paths ?? [], options, ct),
                "command" => await SourceCommand.BackUpAsync(repo, source.Command ?? [], source.Filename ?? source.Name, options,
                    status => result.ExitStatus = status, ct),
                _ => throw new RepositoryException(ErrorKind.InvalidArgument, $"source '{source.Name}': unknown kind '{source.Kind}'"),
            };
            result.SnapshotId = backup.Snapshot.Id.ToString();
            result.BytesRead = backup.BytesRead;
            result.BytesAdded = backup.Added.BytesAdded;
            result.BytesStored = backup.Added.BytesStored;
            result.Files = backup.Files;
            result.Succeeded = backup.Errors.Count == 0;
            if (backup.Errors.Count > 0) result.Error = $"{backup.Errors.Count} files could not be read: {backup.Errors[0]}";
        }
        catch (RepositoryException e)
        {
            result.Error = e.Message;
        }
        result.DurationSeconds = Math.Round(started.Elapsed.TotalSeconds, 3);
        return result;
    }
}
