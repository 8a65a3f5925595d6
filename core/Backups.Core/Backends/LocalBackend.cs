using System.Runtime.CompilerServices;

namespace Backups.Core.Backends;

/// <summary>A repository in a local directory, laid out as restic lays it out.</summary>
public sealed class LocalBackend(string root) : IBackend
{
    private const UnixFileMode FilePermissions = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode DirPermissions = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public string Root { get; } = Path.GetFullPath(root);
    public string Location => Root;

    private string PathOf(FileHandle file) => Path.Combine(Root, FileLayout.RelativePath(file));

    public async Task SaveAsync(FileHandle file, ReadOnlyMemory<byte> data, CancellationToken ct = default)
    {
        await using var pending = new PendingFile(this, file.Kind);
        await pending.WriteAsync(data, ct);
        await pending.CommitAsync(file.Name, ct);
    }

    public Task<IPendingFile> BeginAsync(FileKind kind, BlobType? packOf = null, CancellationToken ct = default) =>
        Task.FromResult<IPendingFile>(new PendingFile(this, kind));

    /// <summary>
    /// Written beside its destination under a hidden temporary name, then synced and renamed: a reader (or a
    /// crash) never sees a half-written file under a real name, and restic skips names that are not ids.
    /// </summary>
    private sealed class PendingFile : IPendingFile
    {
        private readonly LocalBackend _backend;
        private readonly FileKind _kind;
        private readonly string _temp;
        private readonly FileStream _stream;
        private bool _committed;

        public PendingFile(LocalBackend backend, FileKind kind)
        {
            _backend = backend;
            _kind = kind;
            // Packs get their folder from their name, which is not known yet; data/00 is as good as any.
            var dir = Path.Combine(backend.Root, kind == FileKind.Pack ? "data/00" : FileLayout.Folder(kind));
            Directory.CreateDirectory(dir, DirPermissions);
            _temp = Path.Combine(dir, $".pending-{Guid.NewGuid():N}");
            _stream = new FileStream(_temp, new FileStreamOptions
            {
                Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = FilePermissions,
                Options = FileOptions.Asynchronous, BufferSize = 0,
            });
        }

        public long Length => _stream.Length;

        public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct = default) => _stream.WriteAsync(data, ct);

        public async Task CommitAsync(string name, CancellationToken ct = default)
        {
            var path = _backend.PathOf(new FileHandle(_kind, name));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!, DirPermissions);
            await Task.Run(() => _stream.Flush(flushToDisk: true), ct);
            await _stream.DisposeAsync();
            // The config is never replaced: `init` on an existing repository must fail, not overwrite it.
            File.Move(_temp, path, overwrite: _kind != FileKind.Config);
            _committed = true;
        }

        public async ValueTask DisposeAsync()
        {
            await _stream.DisposeAsync();
            if (!_committed) File.Delete(_temp);
        }
    }

    public async Task<byte[]> LoadAsync(FileHandle file, long offset = 0, int length = 0, CancellationToken ct = default)
    {
        byte[]? buffer = null;
        await ReadAsync(file, offset, size =>
        {
            if (offset > size) throw new EndOfStreamException($"{file}: offset {offset} beyond its size {size}");
            return buffer = GC.AllocateUninitializedArray<byte>(length == 0 ? checked((int)(size - offset)) : length);
        }, ct);
        return buffer!;
    }

    public Task LoadIntoAsync(FileHandle file, long offset, Memory<byte> destination, CancellationToken ct = default) =>
        ReadAsync(file, offset, _ => destination, ct);

    /// <summary>Fills the buffer <paramref name="into"/> gives for the file's size with the bytes at <paramref name="offset"/>.</summary>
    private async Task ReadAsync(FileHandle file, long offset, Func<long, Memory<byte>> into, CancellationToken ct)
    {
        var path = PathOf(file);
        try
        {
            await using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous);
            var size = fs.Length;
            var buffer = into(size);
            var count = buffer.Length;
            if (offset + count > size) throw new EndOfStreamException($"{file}: {count} bytes at {offset} beyond its size {size}");
            for (var done = 0; done < count;)
            {
                var n = await RandomAccess.ReadAsync(fs.SafeFileHandle, buffer[done..], offset + done, ct);
                if (n == 0) throw new EndOfStreamException($"{file} shrank while being read");
                done += n;
            }
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundInBackendException(file.ToString());
        }
    }

    public Task<long?> StatAsync(FileHandle file, CancellationToken ct = default)
    {
        var info = new FileInfo(PathOf(file));
        return Task.FromResult(info.Exists ? info.Length : (long?)null);
    }

    public async IAsyncEnumerable<(string Name, long Size)> ListAsync(FileKind kind, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var dir = new DirectoryInfo(Path.Combine(Root, FileLayout.Folder(kind)));
        if (!dir.Exists) yield break;
        var options = new EnumerationOptions { RecurseSubdirectories = kind == FileKind.Pack, AttributesToSkip = 0 };
        foreach (var f in dir.EnumerateFiles("*", options))
        {
            ct.ThrowIfCancellationRequested();
            if (f.Name.StartsWith('.')) continue; // our own temp files
            yield return (f.Name, f.Length);
        }
        await Task.CompletedTask;
    }

    public Task RemoveAsync(FileHandle file, CancellationToken ct = default)
    {
        File.Delete(PathOf(file));
        return Task.CompletedTask;
    }

    public Task CreateAsync(CancellationToken ct = default)
    {
        foreach (var kind in new[] { FileKind.Key, FileKind.Snapshot, FileKind.Index, FileKind.Lock })
            Directory.CreateDirectory(Path.Combine(Root, FileLayout.Folder(kind)), DirPermissions);
        for (var i = 0; i < 256; i++)
            Directory.CreateDirectory(Path.Combine(Root, "data", i.ToString("x2")), DirPermissions);
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>Whether a repository (its config file) exists here.</summary>
    public bool HasConfig => File.Exists(Path.Combine(Root, "config"));
}
