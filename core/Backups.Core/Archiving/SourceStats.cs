using Backups.Core.Trees;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Archiving;

/// <summary>What one source read and added; updated from several workers at once.</summary>
public sealed class SourceStats
{
    private long _bytesRead, _bytesAdded, _bytesStored, _blobsAdded, _filesUnchanged;
    private long _dirsNew, _dirsChanged, _dirsUnmodified;
    private readonly List<string> _errors = [];

    public long BytesRead => Interlocked.Read(ref _bytesRead);
    public long BytesAdded => Interlocked.Read(ref _bytesAdded);
    public long BytesStored => Interlocked.Read(ref _bytesStored);
    public long BlobsAdded => Interlocked.Read(ref _blobsAdded);
    public long Files { get; internal set; }

    /// <summary>What the source will read in all, when known beforehand (a paths source, once counted).</summary>
    public long? BytesTotal { get; set; }
    public long Directories { get; internal set; }

    /// <summary>Files and directories that could not be read (the snapshot lacks them).</summary>
    public IReadOnlyList<string> Errors
    {
        get { lock (_errors) return [.. _errors]; }
    }

    internal void Read(long bytes) => Interlocked.Add(ref _bytesRead, bytes);

    /// <summary>A file taken unchanged from the parent snapshot: processed, as restic counts it, but not read.</summary>
    internal void Unchanged(ulong bytes)
    {
        Interlocked.Add(ref _bytesRead, (long)bytes);
        Interlocked.Increment(ref _filesUnchanged);
    }

    /// <summary>Files whose content came from the parent snapshot without reading them.</summary>
    public long FilesUnchanged => Interlocked.Read(ref _filesUnchanged);

    /// <summary>How a directory of the snapshot compares with the parent snapshot's node for it.</summary>
    public enum Change { New, Changed, Unmodified }

    /// <summary>Directories of the snapshot (those on the way to a target too, as restic counts them) that the
    /// parent snapshot lacks, has with other metadata or another tree, or has as they are.</summary>
    public long DirsNew => Interlocked.Read(ref _dirsNew);
    public long DirsChanged => Interlocked.Read(ref _dirsChanged);
    public long DirsUnmodified => Interlocked.Read(ref _dirsUnmodified);

    internal void Directory(Change change)
    {
        switch (change)
        {
            case Change.New: Interlocked.Increment(ref _dirsNew); break;
            case Change.Changed: Interlocked.Increment(ref _dirsChanged); break;
            default: Interlocked.Increment(ref _dirsUnmodified); break;
        }
    }

    /// <summary>Stores a tree blob (unless known), counted for this source.</summary>
    internal async Task<Id> SaveTreeAsync(Repo repo, Tree tree, CancellationToken ct)
    {
        var (id, length, stored) = await TreeJson.SaveAsync(repo, tree, ct);
        if (stored is { } n) Added(n, length);
        return id;
    }

    internal void Added(int storedLength, int plaintextLength)
    {
        Interlocked.Increment(ref _blobsAdded);
        Interlocked.Add(ref _bytesAdded, plaintextLength);
        Interlocked.Add(ref _bytesStored, storedLength);
    }

    internal void Error(string message)
    {
        lock (_errors) _errors.Add(message);
    }
}
