using System.Buffers;

namespace Backups.Core.Backends;

/// <summary>
/// A read-only, seekable view of a segmented buffer, so a pack's blobs can be uploaded without first being
/// copied into one array (the S3 SDK reads the body once to sign it and again to send it).
/// </summary>
public sealed class SequenceStream(ReadOnlySequence<byte> data) : Stream
{
    private long _position;

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var remaining = data.Length - _position;
        if (remaining <= 0) return 0;
        var n = (int)Math.Min(buffer.Length, remaining);
        data.Slice(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => data.Length + offset,
        };
        if (target < 0) throw new IOException("cannot seek before the start");
        return _position = target;
    }

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => data.Length;
    public override long Position { get => _position; set => Seek(value, SeekOrigin.Begin); }
    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
