using Backups.Core.Backends;
using Backups.Core.Buffers;
using Backups.Core.Compression;
using Backups.Core.Crypto;
using Backups.Core.Packs;
using Backups.Core.Repositories;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Restoring;

/// <summary>
/// The contents of a round of open files, fetched pack by pack: every pack that holds one of their blobs is read
/// once (through <see cref="PackStream"/>: a few ranged reads, several at a time, of one pack or of several), each
/// blob is decrypted and verified once, in place in the read's buffer, and written to every file and offset that
/// uses it. An all-zero blob is not written: the pre-sized file already reads zeros there, and stays sparse. A
/// file is finished (checked when asked, its metadata set, closed) by the read that writes its last piece. Rounds
/// bound the open descriptors and the bookkeeping, whatever the size of the snapshot; a pack that holds blobs of
/// two rounds is read in both, each time only the ranges needed. Rounds fetched side by side share the restore's
/// <paramref name="reads"/>.
/// </summary>
internal sealed class ContentRound(Repo repo, RestoreOptions options, PackReads reads)
{
    private const int Window = 8 << 20;
    // Offsets to write are held per blob; past this many the round is fetched early, files or not.
    private const int MaxTargets = 200_000;

    private readonly List<RestoringFile> _files = [];
    private readonly Dictionary<Id, (BlobLocation Location, List<(RestoringFile File, long Offset)> Targets)> _blobs = [];
    private int _targets;

    public bool IsFull => _files.Count >= options.FilesPerRound || _targets >= MaxTargets;

    /// <summary>Where each blob of a file's content is, and the file's length; a blob missing from the index, or one
    /// whose lengths there no blob can have, is damage found before anything of the file is written (the lengths
    /// size the buffers blobs are opened into).</summary>
    public static (BlobLocation[] Locations, long Length) Locate(Repo repo, IReadOnlyList<Id> content, string display)
    {
        var locations = new BlobLocation[content.Count];
        long length = 0;
        for (var i = 0; i < content.Count; i++)
        {
            if (!repo.Index.TryGet(BlobType.Data, content[i], out locations[i]))
                throw new RepositoryException(ErrorKind.Damaged, $"data blob {content[i]} of {display} is not in the index");
            if (locations[i].Length < CryptoKey.Overhead || locations[i].PlaintextLength is < 0 or > Zstd.MaxDecompressedLength)
                throw new RepositoryException(ErrorKind.Damaged,
                    $"data blob {content[i]} of {display} is damaged: the index gives it {locations[i].Length} bytes stored, {locations[i].UncompressedLength} uncompressed");
            length += locations[i].PlaintextLength;
        }
        return (locations, length);
    }

    public void Add(RestoringFile file)
    {
        _files.Add(file);
        long offset = 0;
        for (var i = 0; i < file.Content.Count; i++)
        {
            var location = file.Locations[i];
            if (!_blobs.TryGetValue(file.Content[i], out var blob)) _blobs[file.Content[i]] = blob = (location, []);
            blob.Targets.Add((file, offset));
            offset += location.PlaintextLength;
            _targets++;
        }
    }

    /// <summary>Writes every file's content; each file, once written (and checked when asked), goes to
    /// <paramref name="finish"/> (its metadata) and is let go. Returns the bytes of content restored.</summary>
    public async Task<long> FetchAsync(Action<RestoringFile> finish, CancellationToken ct)
    {
        try
        {
            foreach (var file in _files)
                if (file.Content.Count == 0) finish(file);
            // The unit of work is one ranged read, not one pack: a few big packs are read in parallel too.
            var windows = _blobs.GroupBy(b => b.Value.Location.Pack).SelectMany(pack =>
            {
                KeyValuePair<Id, (BlobLocation Location, List<(RestoringFile File, long Offset)> Targets)>[] blobs =
                    [.. pack.OrderBy(b => b.Value.Location.Offset)];
                PackSpan[] spans = [.. blobs.Select(b => new PackSpan(b.Value.Location.Offset, b.Value.Location.Length))];
                return PackStream.Plan(spans, Window).Select(window => (Pack: pack.Key, Blobs: blobs, Spans: spans, Window: window));
            }).ToList();
            await Parallel.ForEachAsync(windows, new ParallelOptions { MaxDegreeOfParallelism = reads.Count, CancellationToken = ct },
                (read, token) => new ValueTask(reads.RunAsync(() => ReadAsync(read.Pack, read.Blobs, read.Spans, read.Window, finish, token), token)));
            return _files.Sum(f => f.Length);
        }
        finally
        {
            // Whatever was not finished (the round failed) is closed without its metadata: it does not look complete.
            foreach (var file in _files)
                if (!file.Finished) file.Dispose();
            _files.Clear();
            _blobs.Clear();
            _targets = 0;
        }
    }

    private Task ReadAsync(Id pack, KeyValuePair<Id, (BlobLocation Location, List<(RestoringFile File, long Offset)> Targets)>[] blobs,
        PackSpan[] spans, PackStream.Window window, Action<RestoringFile> finish, CancellationToken ct) =>
        PackStream.ReadWindowAsync(repo.Backend, new FileHandle(FileKind.Pack, pack.ToString()), spans, window, Window, async (i, stored) =>
        {
            var (id, (location, targets)) = blobs[i];
            var scratch = location.IsCompressed ? BufferPool.Large.Rent(location.PlaintextLength) : null;
            try
            {
                var plain = await repo.OpenPackedBlobAsync(stored, id, location, scratch, ct);
                var hole = !plain.Span.ContainsAnyExcept((byte)0);
                foreach (var (target, offset) in targets)
                {
                    if (!hole) target.Write(plain.Span, offset);
                    if (!target.PieceWritten()) continue;
                    if (options.Verify) await VerifyAsync(target, ct);
                    finish(target);
                }
            }
            finally
            {
                if (scratch != null) BufferPool.Large.Return(scratch);
            }
        }, ct);

    /// <summary>Reads the file back blob by blob; each piece must hash to the blob the snapshot names there.</summary>
    private static async ValueTask VerifyAsync(RestoringFile file, CancellationToken ct)
    {
        var (content, locations) = (file.Content, file.Locations);
        var buffer = BufferPool.Large.Rent(locations.Max(l => l.PlaintextLength));
        try
        {
            long offset = 0;
            for (var i = 0; i < content.Count; i++)
            {
                var piece = buffer.AsMemory(0, locations[i].PlaintextLength);
                var read = await RandomAccess.ReadAsync(file.Handle, piece, offset, ct);
                if (read != piece.Length || Id.Hash(piece.Span) != content[i])
                    throw new IOException($"verifying {file.Display} failed: the {piece.Length} bytes at offset {offset} differ from the snapshot");
                offset += piece.Length;
            }
        }
        finally
        {
            BufferPool.Large.Return(buffer);
        }
    }
}
