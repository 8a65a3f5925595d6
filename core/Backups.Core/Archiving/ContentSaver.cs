using System.Threading.Channels;
using Backups.Core.Chunking;
using Backups.Core.Compression;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Archiving;

/// <summary>
/// source -> chunker -> hash workers -> the repository's packing. Chunking a stream is sequential; hashing, deduplication,
/// compression and encryption run on several workers behind a bounded channel, so memory stays bounded by
/// the chunks in flight whatever the size of the input.
/// </summary>
public sealed class ContentSaver : IAsyncDisposable
{
    private readonly Repo _repo;
    private readonly Channel<(Chunk Chunk, ContentKind Kind, SourceStats Stats, TaskCompletionSource<Id> Result)> _queue;
    private readonly Task[] _workers;
    public ContentSaver(Repo repo, int workers, CancellationToken ct)
    {
        _repo = repo;
        _queue = Channel.CreateBounded<(Chunk, ContentKind, SourceStats, TaskCompletionSource<Id>)>(new BoundedChannelOptions(workers)
        {
            SingleWriter = false, SingleReader = false,
        });
        _workers = Enumerable.Range(0, workers).Select(_ => Task.Run(() => WorkAsync(ct), ct)).ToArray();
    }

    private async Task WorkAsync(CancellationToken ct)
    {
        await foreach (var (chunk, kind, stats, result) in _queue.Reader.ReadAllAsync(ct))
        {
            try
            {
                var (id, length) = (Id.Hash(chunk.Data.Span), chunk.Length);
                if (await _repo.SaveBlobAsync(BlobType.Data, id, chunk.Data, chunk, kind, ct) is { } stored) stats.Added(stored, length);
                result.SetResult(id);
            }
            catch (Exception e)
            {
                result.SetException(e);
            }
        }
    }

    /// <summary>Reads and chunks the whole stream, queueing every chunk.</summary>
    /// <returns>Once the stream is read: its length, and a task for its blob ids in order.</returns>
    public async Task<(Task<Id[]> Content, long Size)> QueueAsync(Stream source, SourceStats stats, CancellationToken ct)
    {
        var results = new List<Task<Id>>();
        long size = 0;
        var kind = (source as SegmentedStream)?.Content ?? ContentKind.General;
        using (var chunker = new Chunker(_repo.Polynomial, source))
        {
            while (await chunker.NextAsync(ct) is { } chunk)
            {
                var result = new TaskCompletionSource<Id>(TaskCreationOptions.RunContinuationsAsynchronously);
                size += chunk.Length;
                stats.Read(chunk.Length);
                try
                {
                    await _queue.Writer.WriteAsync((chunk, kind, stats, result), ct);
                }
                catch
                {
                    chunk.Dispose();
                    throw;
                }
                results.Add(result.Task);
            }
        }
        return (Task.WhenAll(results), size);
    }

    /// <summary>Waits until every queued chunk is saved.</summary>
    public async Task CompleteAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_workers);
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        try { await Task.WhenAll(_workers); } catch { /* reported through the chunks' results */ }
        while (_queue.Reader.TryRead(out var item)) item.Chunk.Dispose();
    }
}
