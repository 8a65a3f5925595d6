using System.Security.Cryptography;
using Backups.Core.Archiving;
using Backups.Core.Chunking;
using Backups.Core.Compression;
using Backups.Core.Snapshots;
using Backups.Core.Trees;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Wal;

/// <summary>One file PostgreSQL handed to archive_command (or that the archiver found ready ahead of it), and when
/// PostgreSQL finished writing it (stored as its node's mtime). Its bytes are read only when its batch is stored:
/// a backlog waits in pg_wal, not in the archiver's memory.</summary>
public sealed record WalFile(WalFileName Name, Func<Stream> Open, DateTimeOffset Written)
{
    public WalFile(WalFileName name, byte[] content, DateTimeOffset written)
        : this(name, () => new MemoryStream(content, writable: false), written)
    {
    }
}

/// <summary>
/// Stores a batch of WAL files as one snapshot of the source, in a backup session of its own: packs, then the
/// index naming them, then the snapshot. Only when this returns may any file of the batch be reported archived
/// (PostgreSQL then recycles it): before, a crash or a prune could lose it.
/// </summary>
public static class WalWriter
{
    /// <summary>
    /// How a WAL file is cut into blobs: in fixed pieces. Content-defined cuts find nothing to deduplicate in WAL
    /// (every page header carries its own address, so no stretch of one segment recurs in another) and cost a
    /// Rabin pass over every byte; pieces of 4 MiB compress as well as whole segments (measured on pgbench WAL with
    /// zstd: within 0.3%; zstd's window at the archiver's level is smaller than a piece) while two workers seal a
    /// segment's pieces side by side. They stay within restic's own 8 MiB chunk limit: stock restic reads them as its own.
    /// </summary>
    public static readonly ChunkSizes Pieces = new(4 << 20, 4 << 20, 20);

    /// <summary>How many files are read at once: enough to keep the session's workers busy (a reader only copies
    /// and hashes), few enough that a batch of any length holds a handful of pieces in memory.</summary>
    private const int FilesAtOnce = 2;

    /// <returns>The snapshot, its tree, and each file's SHA-256 (in the order given): what a later push of the same
    /// name is compared with.</returns>
    public static async Task<(Snapshot Snapshot, Tree Tree, Id[] Hashes)> SaveAsync(Repo repo, string source, string? host,
        IReadOnlyList<WalFile> files, CancellationToken ct)
    {
        var stats = new SourceStats();
        var time = DateTimeOffset.Now;
        await using var session = await BackupSession.StartAsync(repo, Math.Max(2, Environment.ProcessorCount), uploads: 2, ct);
        var nodes = new Node[files.Count];
        var hashes = new Id[files.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, files.Count), new ParallelOptions { MaxDegreeOfParallelism = FilesAtOnce, CancellationToken = ct },
            async (i, token) =>
            {
                await using var content = new WalStream(files[i].Open());
                var node = await session.SaveFileAsync(content, files[i].Name.Name, files[i].Written, stats, token);
                node.Mode = 0b110_000_000;
                nodes[i] = node;
                hashes[i] = content.Hash;
            });
        var tree = new Tree { Nodes = [.. nodes] };
        var id = await session.SaveTreeAsync(nodes, stats, ct);
        await session.FinishAsync(ct);
        var snapshot = await session.WriteSnapshotAsync(BackupSession.NewSnapshot(id, [PgSnapshots.WalPath(source)], time, host,
            SnapshotSource.Tags(source, [PgSnapshots.WalTag]), []), ct);
        return (snapshot, tree, hashes);
    }

    /// <summary>A WAL file as the chunker reads it: cut in <see cref="Pieces"/>, hashed whole on the way.</summary>
    private sealed class WalStream(Stream inner) : SegmentedStream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private Id? _whole;

        public override ChunkSizes ChunkSizes => Pieces;

        public override ContentKind Content => ContentKind.Wal;

        /// <summary>The SHA-256 of everything read, once the end was read.</summary>
        public Id Hash => _whole ?? throw new InvalidOperationException("the WAL file was not read to its end");

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer) => Took(buffer, inner.Read(buffer));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            var n = await inner.ReadAsync(buffer, ct);
            return Took(buffer.Span, n);
        }

        private int Took(ReadOnlySpan<byte> buffer, int n)
        {
            if (n > 0) _hash.AppendData(buffer[..n]);
            else if (buffer.Length > 0) _whole ??= new Id(_hash.GetHashAndReset());
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                _hash.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
