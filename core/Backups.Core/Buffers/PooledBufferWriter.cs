using System.Buffers;

namespace Backups.Core.Buffers;

/// <summary>
/// A growing buffer from <see cref="BufferPool.Large"/> for writers such as Utf8JsonWriter: files of many MiB
/// (an index of 50,000 blobs) are built without leaving arrays of that size behind for the GC.
/// </summary>
public sealed class PooledBufferWriter(int initialSize = 64 * 1024) : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer = BufferPool.Large.Rent(initialSize);
    private int _written;

    public Memory<byte> WrittenMemory => _buffer.AsMemory(0, _written);

    public int WrittenCount => _written;

    public void Advance(int count) => _written += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsSpan(_written);
    }

    public void Clear() => _written = 0;

    private void Reserve(int sizeHint)
    {
        var needed = _written + Math.Max(sizeHint, 1);
        if (needed > _buffer.Length)
        {
            var larger = BufferPool.Large.Rent(Math.Max(needed, 2 * _buffer.Length));
            _buffer.AsSpan(0, _written).CopyTo(larger);
            BufferPool.Large.Return(_buffer);
            _buffer = larger;
        }
    }

    public void Dispose()
    {
        BufferPool.Large.Return(_buffer);
        _buffer = [];
    }
}
