using Backups.Core.FileSystem;
using Backups.Core.Trees;
using Microsoft.Win32.SafeHandles;

namespace Backups.Core.Restoring;

/// <summary>
/// A regular file being restored: created empty and pre-sized, its blobs written at their offsets as packs
/// arrive, its metadata (mtime last) set only once all of its content is written, so a restore killed midway
/// leaves no file that looks complete. The descriptor is shared by the content round and, for the first name of
/// a hard-link group, the group's later names: whoever lets go last closes it.
/// </summary>
internal sealed class RestoringFile : IDisposable
{
    private int _holders = 1;
    private int _pending;

    public RestoringFile(SafeFileHandle handle, Node node, string display, IReadOnlyList<Id> content, BlobLocation[] locations, long length)
    {
        Handle = handle;
        Node = node;
        Display = display;
        Content = content;
        Locations = locations;
        Length = length;
        _pending = content.Count;
        RandomAccess.SetLength(handle, length);
    }

    public SafeFileHandle Handle { get; }
    public Node Node { get; }
    /// <summary>Its path under the target, for messages.</summary>
    public string Display { get; }
    /// <summary>Its blobs in order, and where each one is.</summary>
    public IReadOnlyList<Id> Content { get; }
    public BlobLocation[] Locations { get; }
    public long Length { get; }
    /// <summary>Its content is all written and its metadata set; the round no longer holds it.</summary>
    public bool Finished { get; private set; }

    /// <summary>A hard-link group keeps the file open for its later names.</summary>
    public void Hold() => Interlocked.Increment(ref _holders);

    public void Write(ReadOnlySpan<byte> data, long offset) => RandomAccess.Write(Handle, data, offset);

    /// <summary>Counts one piece of the content as written (or left as a hole); true for the last one, whichever
    /// pack read brings it.</summary>
    public bool PieceWritten() => Interlocked.Decrement(ref _pending) == 0;

    public void Finish(uint? owner, uint? group, FileTimes times)
    {
        FileMetadata.Set(Handle, Display, owner, group, (uint)Node.Permissions, times);
        Finished = true;
        Dispose();
    }

    public void Dispose()
    {
        if (Interlocked.Decrement(ref _holders) == 0) Handle.Dispose();
    }
}
