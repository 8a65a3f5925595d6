using Backups.Core.Repositories;

namespace Backups.Core.Backends;

/// <summary>The kinds of files a repository stores, each in its own folder. Status (status/) is ours alone: the
/// workflow's run history, which restic never lists (it reads only its own folders) and `check` ignores.</summary>
public enum FileKind { Config, Key, Snapshot, Index, Lock, Pack, Status }

/// <summary>A file in the repository: its kind and its name (a hex id; "config" for the config file).</summary>
public readonly record struct FileHandle(FileKind Kind, string Name)
{
    public static readonly FileHandle Config = new(FileKind.Config, "config");
    public override string ToString() => Kind == FileKind.Config ? "config" : $"{FileLayout.Folder(Kind)}/{Name}";
}

/// <summary>
/// Where repository files live. Narrow on purpose (as restic's backend): whole-file save, ranged load,
/// list, remove. Implementations must make Save atomic: a reader never sees a partly written file.
/// </summary>
public interface IBackend : IAsyncDisposable
{
    /// <summary>A description without secrets, for messages.</summary>
    string Location { get; }

    /// <summary>How many requests the store is sent at once, where it bounds them (S3: restic's -o s3.connections);
    /// null where it sets no bound (a local folder). Readers and uploaders run this many at a time so that the
    /// bound is used, not just obeyed.</summary>
    int? Connections => null;

    Task SaveAsync(FileHandle file, ReadOnlyMemory<byte> data, CancellationToken ct = default);

    /// <summary>Starts a file that is written piece by piece and named only when complete (a pack is named by
    /// the hash of its bytes). Nobody sees it before <see cref="IPendingFile.CommitAsync"/>.</summary>
    /// <param name="packOf">For a pack, the type of the blobs in it (a pack holds one type). A store may label the
    /// file with it (S3: an object tag that lifecycle rules select data packs by, to move them to a colder class);
    /// what restic reads is the same either way.</param>
    Task<IPendingFile> BeginAsync(FileKind kind, BlobType? packOf = null, CancellationToken ct = default);

    /// <summary>Reads <paramref name="length"/> bytes at <paramref name="offset"/> (length 0: to the end).
    /// Throws <see cref="FileNotFoundInBackendException"/> when the file does not exist.</summary>
    Task<byte[]> LoadAsync(FileHandle file, long offset = 0, int length = 0, CancellationToken ct = default);

    /// <summary>Reads exactly <c>destination.Length</c> bytes at <paramref name="offset"/> into a buffer the caller
    /// reuses (a check reads every pack; fresh arrays of many MiB each would pile up faster than the GC frees them).
    /// Throws as <see cref="LoadAsync"/> does.</summary>
    async Task LoadIntoAsync(FileHandle file, long offset, Memory<byte> destination, CancellationToken ct = default)
    {
        if (destination.Length == 0) return;
        (await LoadAsync(file, offset, destination.Length, ct)).CopyTo(destination);
    }

    /// <summary>Size in bytes, or null when the file does not exist.</summary>
    Task<long?> StatAsync(FileHandle file, CancellationToken ct = default);

    /// <summary>Every file of a kind, with its size.</summary>
    IAsyncEnumerable<(string Name, long Size)> ListAsync(FileKind kind, CancellationToken ct = default);

    /// <summary>Removes a file. Throws <see cref="RemovalRefusedException"/> when the store keeps it (retention).</summary>
    Task RemoveAsync(FileHandle file, CancellationToken ct = default);

    /// <summary>Creates the folder structure of an empty repository (no-op where folders do not exist).</summary>
    Task CreateAsync(CancellationToken ct = default);
}

/// <summary>A file being written; disposing it without a commit discards it.</summary>
public interface IPendingFile : IAsyncDisposable
{
    long Length { get; }

    /// <summary>Appends bytes; the caller keeps its buffer.</summary>
    ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct = default);

    /// <summary>Makes the file durable and visible under its name.</summary>
    Task CommitAsync(string name, CancellationToken ct = default);
}

/// <summary>A file the repository refers to is not in the store: at the top of a command, damage.</summary>
public sealed class FileNotFoundInBackendException(string file) : ClassifiedException(ErrorKind.Damaged, $"{file} does not exist")
{
    public string File { get; } = file;
}

/// <summary>
/// The store refused to delete a file (403): an S3 Object Lock retention that has not ended, or a policy that
/// does not let these credentials delete. The file is still there.
/// </summary>
public sealed class RemovalRefusedException(string file, string reason, Exception? inner = null)
    : Exception($"{file} cannot be removed: {reason}", inner)
{
    public string File { get; } = file;
}

/// <summary>Could not reach the store at all (after retries), as opposed to a missing or damaged file.</summary>
public sealed class BackendUnavailableException(string message, Exception? inner = null) : ClassifiedException(ErrorKind.Unavailable, message, inner);

/// <summary>restic's folder layout: data/ is split by the first two hex characters of the pack id.</summary>
public static class FileLayout
{
    public static string Folder(FileKind kind) => kind switch
    {
        FileKind.Config => "",
        FileKind.Key => "keys",
        FileKind.Snapshot => "snapshots",
        FileKind.Index => "index",
        FileKind.Lock => "locks",
        FileKind.Pack => "data",
        FileKind.Status => "status",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Path of a file relative to the repository root, with '/' separators.</summary>
    public static string RelativePath(FileHandle file) => file.Kind switch
    {
        FileKind.Config => "config",
        FileKind.Pack => $"data/{file.Name[..2]}/{file.Name}",
        _ => $"{Folder(file.Kind)}/{file.Name}",
    };
}
