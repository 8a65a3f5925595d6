using System.Buffers;

namespace Backups.Core.Buffers;

/// <summary>
/// The pool for chunk, blob and pack buffers (up to a few MiB each). ArrayPool.Shared keeps a cached array
/// per size class in every thread, so with many pool threads large buffers multiply; this pool is one set
/// of stacks for the whole process, which keeps memory near what is actually in flight.
/// </summary>
public static class BufferPool
{
    public static readonly ArrayPool<byte> Large = ArrayPool<byte>.Create(maxArrayLength: 16 * 1024 * 1024, maxArraysPerBucket: 4);
}
