using System.Collections.Concurrent;
using Backups.Core.Repositories;

namespace Backups.Core.Backends;

/// <summary>
/// restic's dry-run backend (backup --dry-run): reads go to the store, writes and removals are accepted and
/// dropped, so the store is left exactly as it was. Within this process a dropped file still answers a stat (a
/// lock checks that its own file is there) and, unless it is a pack, a load; listings show only the store's.
/// </summary>
public sealed class DryRunBackend(IBackend store) : IBackend
{
    /// <summary>Dropped files by name: their bytes (none kept for packs) and their size.</summary>
    private readonly ConcurrentDictionary<FileHandle, (byte[]? Data, long Size)> _dropped = new();

    public string Location => "DRY:" + store.Location;
    public int? Connections => store.Connections;

    public Task SaveAsync(FileHandle file, ReadOnlyMemory<byte> data, CancellationToken ct = default)
    {
        _dropped[file] = (file.Kind == FileKind.Pack ? null : data.ToArray(), data.Length);
        return Task.CompletedTask;
    }

    public Task<IPendingFile> BeginAsync(FileKind kind, BlobType? packOf = null, CancellationToken ct = default) =>
        Task.FromResult<IPendingFile>(new DroppedFile(this, kind));

    public Task<byte[]> LoadAsync(FileHandle file, long offset = 0, int length = 0, CancellationToken ct = default)
    {
        if (!_dropped.TryGetValue(file, out var dropped)) return store.LoadAsync(file, offset, length, ct);
        if (dropped.Data is not { } data) throw new RepositoryException(ErrorKind.InvalidArgument, $"{file} was not written (dry run)");
        return Task.FromResult(data.AsSpan((int)offset, length == 0 ? data.Length - (int)offset : length).ToArray());
    }

    public async Task<long?> StatAsync(FileHandle file, CancellationToken ct = default) =>
        _dropped.TryGetValue(file, out var dropped) ? dropped.Size : await store.StatAsync(file, ct);

    public IAsyncEnumerable<(string Name, long Size)> ListAsync(FileKind kind, CancellationToken ct = default) => store.ListAsync(kind, ct);

    public Task RemoveAsync(FileHandle file, CancellationToken ct = default)
    {
        _dropped.TryRemove(file, out _);
        return Task.CompletedTask;
    }

    public Task CreateAsync(CancellationToken ct = default) => Task.CompletedTask;

    public ValueTask DisposeAsync() => store.DisposeAsync();

    /// <summary>A pack or other file that is counted as it is written and dropped when committed.</summary>
    private sealed class DroppedFile(DryRunBackend backend, FileKind kind) : IPendingFile
    {
        public long Length { get; private set; }

        public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct = default)
        {
            Length += data.Length;
            return ValueTask.CompletedTask;
        }

        public Task CommitAsync(string name, CancellationToken ct = default)
        {
            backend._dropped[new FileHandle(kind, name)] = (null, Length);
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
