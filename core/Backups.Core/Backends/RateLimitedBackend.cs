using Backups.Core.Repositories;

namespace Backups.Core.Backends;

/// <summary>restic's --limit-upload and --limit-download, in KiB/s; null or 0 is unlimited.</summary>
public sealed record BandwidthLimits(int? UploadKiB = null, int? DownloadKiB = null)
{
    public static readonly BandwidthLimits None = new();

    public bool Any => UploadKiB > 0 || DownloadKiB > 0;
}

/// <summary>
/// A store whose traffic is held to restic's rate limits: what is saved (whole files and the pieces of a pack)
/// passes an upload bucket before it goes out, what is loaded passes a download bucket as it comes in. One
/// bucket per direction for the whole process, as restic has.
/// </summary>
public sealed class RateLimitedBackend(IBackend store, BandwidthLimits limits, TimeProvider clock) : IBackend
{
    private readonly TokenBucket? _upload = limits.UploadKiB > 0 ? new TokenBucket(limits.UploadKiB.Value * 1024L, clock) : null;
    private readonly TokenBucket? _download = limits.DownloadKiB > 0 ? new TokenBucket(limits.DownloadKiB.Value * 1024L, clock) : null;

    public string Location => store.Location;
    public int? Connections => store.Connections;

    public async Task SaveAsync(FileHandle file, ReadOnlyMemory<byte> data, CancellationToken ct = default)
    {
        await WaitAsync(_upload, data.Length, ct);
        await store.SaveAsync(file, data, ct);
    }

    public async Task<IPendingFile> BeginAsync(FileKind kind, BlobType? packOf = null, CancellationToken ct = default) =>
        _upload is { } bucket ? new LimitedFile(await store.BeginAsync(kind, packOf, ct), bucket) : await store.BeginAsync(kind, packOf, ct);

    public async Task<byte[]> LoadAsync(FileHandle file, long offset = 0, int length = 0, CancellationToken ct = default)
    {
        var data = await store.LoadAsync(file, offset, length, ct);
        await WaitAsync(_download, data.Length, ct);
        return data;
    }

    public async Task LoadIntoAsync(FileHandle file, long offset, Memory<byte> destination, CancellationToken ct = default)
    {
        await store.LoadIntoAsync(file, offset, destination, ct);
        await WaitAsync(_download, destination.Length, ct);
    }

    public Task<long?> StatAsync(FileHandle file, CancellationToken ct = default) => store.StatAsync(file, ct);

    public IAsyncEnumerable<(string Name, long Size)> ListAsync(FileKind kind, CancellationToken ct = default) => store.ListAsync(kind, ct);

    public Task RemoveAsync(FileHandle file, CancellationToken ct = default) => store.RemoveAsync(file, ct);

    public Task CreateAsync(CancellationToken ct = default) => store.CreateAsync(ct);

    public ValueTask DisposeAsync() => store.DisposeAsync();

    private static Task WaitAsync(TokenBucket? bucket, long bytes, CancellationToken ct) =>
        bucket?.WaitAsync(bytes, ct) ?? Task.CompletedTask;

    private sealed class LimitedFile(IPendingFile file, TokenBucket upload) : IPendingFile
    {
        public long Length => file.Length;

        public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct = default)
        {
            await upload.WaitAsync(data.Length, ct);
            await file.WriteAsync(data, ct);
        }

        public Task CommitAsync(string name, CancellationToken ct = default) => file.CommitAsync(name, ct);

        public ValueTask DisposeAsync() => file.DisposeAsync();
    }
}
