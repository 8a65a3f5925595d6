using System.Text.Json.Nodes;
using Backups.Core.Backends;
using Backups.Core.Json;
using Backups.Core.Locks;
using Backups.Core.Packs;
using Backups.Core.Repositories;
using Backups.Core.Retention;
using Backups.Core.Snapshots;
using Backups.Core.Trees;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Copying;

/// <summary>What to copy: the snapshots named (ids, prefixes, "latest"), else every one the filter matches.</summary>
public sealed record CopyOptions
{
    public SnapshotFilter Filter { get; init; } = SnapshotFilter.All;
    public IReadOnlyList<string> Snapshots { get; init; } = [];

    /// <summary>restic's --no-lock applies to the source only: the destination is always locked.</summary>
    public bool LockSource { get; init; } = true;

    /// <summary>No pack is started after this moment (a Lambda invocation's end): what was copied is flushed and
    /// the result says the copy is incomplete, for the next run to finish.</summary>
    public DateTimeOffset? StopAfter { get; init; }

    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>One source snapshot: copied as <see cref="Copy"/>, or found at the destination already as it.</summary>
public sealed record CopiedSnapshot(Snapshot Source, Id? Copy, bool AlreadyThere);

public sealed class CopyStats
{
    public List<CopiedSnapshot> Snapshots { get; } = [];
    public int BlobsCopied { get; set; }

    /// <summary>Stored (compressed, encrypted) bytes of the blobs added to the destination.</summary>
    public long BytesAdded { get; set; }

    /// <summary>False when <see cref="CopyOptions.StopAfter"/> came first: some snapshots are still to copy.</summary>
    public bool Complete { get; set; } = true;

    public int SnapshotsLeft { get; set; }
}

/// <summary>
/// restic 0.14's `copy`: each chosen source snapshot that the destination does not hold yet (a destination snapshot
/// whose original, or own id, is the source's original and whose fields match: restic's similarSnapshots) has its
/// trees and data blobs that the destination's index lacks read from the source's packs (<see cref="PackStream"/>,
/// each blob verified), saved through the destination's packer (which seals them with the destination's key and
/// skips any the destination already holds), flushed (packs, then the index naming them), and only then the
/// snapshot is written, without its parent and naming its original. A kill at any point leaves at worst packs in
/// no index and, for the next run, an index that already holds part of the copy: it copies the rest.
/// </summary>
public static class Copier
{
    private const int PackReads = 2, TreeLoads = 8;
    // How much of a source pack is read at once (a larger blob is read alone).
    private const int Window = 4 * 1024 * 1024;

    public static async Task<CopyStats> CopyAsync(Repo source, Repo destination, CopyOptions options, Action<CopiedSnapshot>? copied = null,
        CancellationToken ct = default)
    {
        await using var sourceLock = options.LockSource ? await RepositoryLock.AcquireAsync(source, exclusive: false, ct) : null;
        await using var destinationLock = await RepositoryLock.AcquireAsync(destination, exclusive: false, ct);

        var chosen = await SnapshotSelection.FindAsync(source, options.Filter, options.Snapshots, ct: ct);
        await Task.WhenAll(source.LoadIndexAsync(ct), destination.LoadIndexAsync(ct));
        var copies = (await destination.LoadSnapshotsAsync(ct)).Where(options.Filter.Matches)
            .SelectMany(s => s.Original is { } o && o != s.Id ? new[] { (o, s), (s.Id, s) } : [(s.Id, s)])
            .ToLookup(p => p.Item1, p => p.Item2);

        var stats = new CopyStats();
        var visitedTrees = new HashSet<Id>();
        for (var i = 0; i < chosen.Count; i++)
        {
            var snapshot = chosen[i];
            if (copies[snapshot.Original ?? snapshot.Id].FirstOrDefault(c => Similar(c, snapshot)) is { } there)
            {
                Report(new CopiedSnapshot(snapshot, there.Id, AlreadyThere: true));
                continue;
            }
            if (!await CopyTreeAsync(source, destination, snapshot.Tree, visitedTrees, options, stats, ct))
            {
                stats.Complete = false;
                stats.SnapshotsLeft = chosen.Count - i;
                break;
            }
            Report(new CopiedSnapshot(snapshot, await SaveCopyAsync(source, destination, snapshot, ct), AlreadyThere: false));
        }
        return stats;

        void Report(CopiedSnapshot c)
        {
            stats.Snapshots.Add(c);
            copied?.Invoke(c);
        }
    }

    /// <summary>restic's similarSnapshots: everything but parent and original is the same (paths and tags as sets).
    /// A field left out is Go's zero value: restic's copy drops a uid of 0 that our snapshot spells out.</summary>
    public static bool Similar(Snapshot a, Snapshot b) =>
        a.Time == b.Time && a.Tree == b.Tree && (a.Hostname ?? "") == (b.Hostname ?? "") && (a.Username ?? "") == (b.Username ?? "")
        && (a.Uid ?? 0) == (b.Uid ?? 0) && (a.Gid ?? 0) == (b.Gid ?? 0)
        && a.Paths.Count == b.Paths.Count && b.Paths.All(a.Paths.Contains)
        && (a.Tags?.Count ?? 0) == (b.Tags?.Count ?? 0) && (b.Tags ?? []).All(t => a.Tags?.Contains(t) == true)
        && (a.Excludes ?? []).SequenceEqual(b.Excludes ?? []);

    /// <summary>Copies what the destination lacks of the tree and everything below it; false when the deadline came
    /// first (what was copied is flushed all the same, so the next run need not copy it again).</summary>
    private static async Task<bool> CopyTreeAsync(Repo source, Repo destination, Id root, HashSet<Id> visitedTrees, CopyOptions options,
        CopyStats stats, CancellationToken ct)
    {
        var wanted = await MissingBlobsAsync(source, destination, root, visitedTrees, ct);
        var packs = wanted.GroupBy(b => b.Location.Pack).Select(g => g.OrderBy(b => b.Location.Offset).ToList()).ToList();
        var finished = true;
        try
        {
            await Parallel.ForEachAsync(packs, new ParallelOptions { MaxDegreeOfParallelism = PackReads, CancellationToken = ct }, async (blobs, token) =>
            {
                if (options.StopAfter is { } stop && options.Time.GetUtcNow() >= stop)
                {
                    finished = false;
                    return;
                }
                var file = new FileHandle(FileKind.Pack, blobs[0].Location.Pack.ToString());
                await PackStream.ReadAsync(source.Backend, file, [.. blobs.Select(b => new PackSpan(b.Location.Offset, b.Location.Length))], Window,
                    async (i, stored) =>
                    {
                        var (plaintext, _) = await source.OpenPackedBlobAsync(stored, blobs[i].Id, blobs[i].Location, token);
                        if (await destination.SaveBlobAsync(blobs[i].Location.Type, blobs[i].Id, plaintext, ct: token) is not { } added) return;
                        lock (stats)
                        {
                            stats.BlobsCopied++;
                            stats.BytesAdded += added;
                        }
                    }, token);
            });
            await destination.FlushAsync(ct);
        }
        finally
        {
            await destination.DiscardBlobsAsync();
        }
        return finished;
    }

    private readonly record struct WantedBlob(Id Id, BlobLocation Location);

    /// <summary>
    /// The trees (not visited before, in this run) reachable from <paramref name="root"/> and the data blobs they
    /// name that the destination's index lacks, each with its place in the source. Trees are read level by level,
    /// a few at a time; a blob the source's index lacks is damage, found before anything is written.
    /// </summary>
    private static async Task<List<WantedBlob>> MissingBlobsAsync(Repo source, Repo destination, Id root, HashSet<Id> visitedTrees, CancellationToken ct)
    {
        var wanted = new Dictionary<(BlobType, Id), WantedBlob>();
        var gate = new Lock();
        void Want(BlobType type, Id id)
        {
            if (destination.Index.Has(type, id) || wanted.ContainsKey((type, id))) return;
            if (!source.Index.TryGet(type, id, out var location))
                throw new RepositoryException(ErrorKind.Damaged, $"{type.ToString().ToLowerInvariant()} blob {id} is used by a snapshot but is not in the source's index; nothing was copied of it");
            wanted[(type, id)] = new WantedBlob(id, location);
        }

        var level = visitedTrees.Add(root) ? new List<Id> { root } : [];
        while (level.Count > 0)
        {
            var next = new List<Id>();
            await Parallel.ForEachAsync(level, new ParallelOptions { MaxDegreeOfParallelism = TreeLoads, CancellationToken = ct }, async (tree, token) =>
            {
                lock (gate) Want(BlobType.Tree, tree);
                var data = new List<Id>();
                var subtrees = new List<Id>();
                TreeReferences.Read(await source.LoadBlobAsync(BlobType.Tree, tree, token), tree, data.Add, subtrees.Add);
                lock (gate)
                {
                    foreach (var id in data) Want(BlobType.Data, id);
                    foreach (var id in subtrees)
                        if (visitedTrees.Add(id)) next.Add(id);
                }
            });
            level = next;
        }
        return [.. wanted.Values];
    }

    /// <summary>
    /// The snapshot as restic's copy saves it: without its parent (it means nothing there) and with the id it was
    /// first saved under in <c>original</c>. Its JSON is edited, not rebuilt, so the time keeps every digit it has
    /// (.NET stops at 100 ns) and restic's own copy finds it similar; it is written as Go writes JSON (a '+' escaped
    /// as \u002B is a time restic cannot parse).
    /// </summary>
    private static async Task<Id> SaveCopyAsync(Repo source, Repo destination, Snapshot snapshot, CancellationToken ct)
    {
        var file = RepositoryFiles.Snapshot.Named(snapshot.Id.ToString());
        var json = JsonNode.Parse((await source.LoadUnpackedAsync(file, ct)).Span)?.AsObject()
                   ?? throw new RepositoryException(ErrorKind.Damaged, $"{file} is damaged: it is not a JSON object");
        json.Remove("parent");
        json["original"] ??= snapshot.Id.ToString();
        return await destination.SaveUnpackedAsync(FileKind.Snapshot, System.Text.Encoding.UTF8.GetBytes(json.ToJsonString(RepositoryJson.Context.Options)), ct);
    }
}
