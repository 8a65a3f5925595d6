using Backups.Core.Archiving;
using Backups.Core.Snapshots;
using Backups.Core.Trees;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Wal;

/// <summary>One file PostgreSQL handed to archive_command (or that the archiver read ahead of it).</summary>
public sealed record WalFile(WalFileName Name, byte[] Content, DateTimeOffset ModTime);

/// <summary>
/// Stores a batch of WAL files as one snapshot of the source, in a backup session of its own: packs, then the
/// index naming them, then the snapshot. Only when this returns may any file of the batch be reported archived
/// (PostgreSQL then recycles it): before, a crash or a prune could lose it.
/// </summary>
public static class WalWriter
{
    public static async Task<(Snapshot Snapshot, Tree Tree)> SaveAsync(Repo repo, string source, string? host, IReadOnlyList<WalFile> files, CancellationToken ct)
    {
        var stats = new SourceStats();
        var time = DateTimeOffset.Now;
        await using var session = await BackupSession.StartAsync(repo, Math.Max(2, Environment.ProcessorCount), uploads: 2, ct);
        var nodes = await Task.WhenAll(files.Select(async f =>
        {
            var node = await session.SaveFileAsync(new MemoryStream(f.Content, writable: false), f.Name.Name, f.ModTime, stats, ct);
            node.Mode = 0b110_000_000;
            return node;
        }));
        var tree = new Tree { Nodes = [.. nodes] };
        var id = await session.SaveTreeAsync(nodes, stats, ct);
        await session.FinishAsync(ct);
        var snapshot = await session.WriteSnapshotAsync(BackupSession.NewSnapshot(id, [PgSnapshots.WalPath(source)], time, host,
            SnapshotSource.Tags(source, [PgSnapshots.WalTag]), []), ct);
        return (snapshot, tree);
    }
}
