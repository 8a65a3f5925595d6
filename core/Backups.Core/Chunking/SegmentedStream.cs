using Backups.Core.Compression;

namespace Backups.Core.Chunking;

/// <summary>
/// A stream that knows where the records of its own format begin, such as the tables of a database dump. The
/// chunker cuts at every such boundary besides its content-defined cuts and chunks each segment as a stream of
/// its own, so a change in one record (a dump's header with its timestamp, a table that grew) cannot spill
/// into the first chunk of the next: unchanged records keep their blobs from night to night.
/// </summary>
public abstract class SegmentedStream : Stream
{
    /// <summary>Whether the bytes returned by the last read end exactly at a segment boundary.</summary>
    public bool AtSegmentEnd { get; protected set; }

    /// <summary>The chunk sizes that suit the content.</summary>
    public virtual ChunkSizes ChunkSizes => ChunkSizes.Restic;

    /// <summary>What the content is, for the compressor.</summary>
    public virtual ContentKind Content => ContentKind.General;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
