using System.Buffers;
using Backups.Core.Buffers;
using ZstdSharp.Unsafe;

namespace Backups.Core.Compression;

/// <summary>
/// A buffer writer that compresses what is written into it, 64 KiB at a time, straight into another writer: one zstd
/// frame at <see cref="Zstd.FastLevel"/> without checksum, as <see cref="Zstd"/> writes them. A Utf8JsonWriter over it
/// builds an index file (20 MiB of JSON for 150,000 blobs) that is only ever held compressed. The frame ends with
/// <see cref="Finish"/>; it does not declare its length (readers bound it by its blocks).
/// </summary>
internal sealed unsafe class ZstdWriter : IBufferWriter<byte>, IDisposable
{
    private const int StagingSize = 64 * 1024;
    private readonly IBufferWriter<byte> _output;
    private byte[] _staging = BufferPool.Large.Rent(StagingSize);
    private ZSTD_CCtx_s* _context;

    public ZstdWriter(IBufferWriter<byte> output)
    {
        _output = output;
        _context = Methods.ZSTD_createCCtx();
        if (_context == null) throw new OutOfMemoryException("zstd could not allocate its compression state");
        Check(Methods.ZSTD_CCtx_setParameter(_context, ZSTD_cParameter.ZSTD_c_compressionLevel, Zstd.FastLevel));
        Check(Methods.ZSTD_CCtx_setParameter(_context, ZSTD_cParameter.ZSTD_c_checksumFlag, 0));
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _staging;
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _staging;
    }

    private void Reserve(int sizeHint)
    {
        if (sizeHint <= _staging.Length) return;
        BufferPool.Large.Return(_staging);
        _staging = BufferPool.Large.Rent(sizeHint);
    }

    public void Advance(int count) => Compress(_staging.AsSpan(0, count), ZSTD_EndDirective.ZSTD_e_continue);

    /// <summary>Writes out what zstd still holds and ends the frame.</summary>
    public void Finish() => Compress([], ZSTD_EndDirective.ZSTD_e_end);

    private void Compress(ReadOnlySpan<byte> data, ZSTD_EndDirective directive)
    {
        fixed (byte* source = data)
        {
            var input = new ZSTD_inBuffer_s { src = source, size = (nuint)data.Length, pos = 0 };
            while (true)
            {
                var target = _output.GetSpan(StagingSize);
                nuint left;
                fixed (byte* destination = target)
                {
                    var output = new ZSTD_outBuffer_s { dst = destination, size = (nuint)target.Length, pos = 0 };
                    left = Check(Methods.ZSTD_compressStream2(_context, &output, &input, directive));
                    _output.Advance((int)output.pos);
                }
                // Continuing, zstd may keep some of the input to itself; ending, it says how much it still holds.
                if (directive == ZSTD_EndDirective.ZSTD_e_end ? left == 0 : input.pos == input.size) return;
            }
        }
    }

    private static nuint Check(nuint result) =>
        Methods.ZSTD_isError(result) ? throw new InvalidOperationException($"zstd failed: {new string(Methods.ZSTD_getErrorName(result))}") : result;

    public void Dispose()
    {
        if (_context == null) return;
        Methods.ZSTD_freeCCtx(_context);
        _context = null;
        BufferPool.Large.Return(_staging);
    }
}
