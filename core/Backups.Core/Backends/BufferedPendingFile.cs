using Backups.Core.Buffers;

namespace Backups.Core.Backends;

/// <summary>A pending file for stores that take whole objects: gathered in a pooled buffer, handed to
/// <paramref name="save"/> with its name on commit.</summary>
public sealed class BufferedPendingFile(Func<string, ReadOnlyMemory<byte>, CancellationToken, Task> save) : IPendingFile
{
    private byte[] _buffer = BufferPool.Large.Rent(1 << 20);
    private int _length;

    public long Length => _length;

    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct = default)
    {
        if (_length + data.Length > _buffer.Length)
        {
            var bigger = BufferPool.Large.Rent(Math.Max(_buffer.Length * 2, _length + data.Length));
            _buffer.AsSpan(0, _length).CopyTo(bigger);
            BufferPool.Large.Return(_buffer);
            _buffer = bigger;
        }
        data.Span.CopyTo(_buffer.AsSpan(_length));
        _length += data.Length;
        return ValueTask.CompletedTask;
    }

    public Task CommitAsync(string name, CancellationToken ct = default) =>
        save(name, _buffer.AsMemory(0, _length), ct);

    public ValueTask DisposeAsync()
    {
        BufferPool.Large.Return(_buffer);
        _buffer = [];
        return ValueTask.CompletedTask;
    }
}
