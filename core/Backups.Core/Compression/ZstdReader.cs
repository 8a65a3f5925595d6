using ZstdSharp.Unsafe;

namespace Backups.Core.Compression;

/// <summary>
/// Decompresses zstd data held in memory piece by piece, into buffers the caller gives: an index file's JSON (20 MiB
/// for 150,000 blobs) is read without ever being whole. zstd keeps only its window (what the frame asks, at most
/// 8 MiB as restic writes, 512 KiB as we write). Data cut short is an error once it is used up.
/// </summary>
internal sealed unsafe class ZstdReader(ReadOnlyMemory<byte> source) : IDisposable
{
    private ZSTD_DCtx_s* _context = Methods.ZSTD_createDCtx();
    private int _used;
    // What zstd last said it still expects; 0 once a frame is complete.
    private nuint _expected = 1;

    /// <summary>Fills <paramref name="destination"/> as far as the data goes; 0 at the end of the data.</summary>
    public int Read(Span<byte> destination)
    {
        if (_context == null) throw new ObjectDisposedException(nameof(ZstdReader));
        fixed (byte* from = source.Span)
        fixed (byte* to = destination)
        {
            var input = new ZSTD_inBuffer_s { src = from, size = (nuint)source.Length, pos = (nuint)_used };
            var output = new ZSTD_outBuffer_s { dst = to, size = (nuint)destination.Length, pos = 0 };
            // With room left in the output once all input is taken, zstd has given everything it holds.
            do
            {
                var result = Methods.ZSTD_decompressStream(_context, &output, &input);
                if (Methods.ZSTD_isError(result)) throw new InvalidDataException(new string(Methods.ZSTD_getErrorName(result)));
                _expected = result;
            } while (output.pos < output.size && input.pos < input.size);
            _used = (int)input.pos;
            if (output.pos == 0 && destination.Length > 0 && _expected != 0) throw new InvalidDataException("the compressed data is cut short");
            return (int)output.pos;
        }
    }

    public void Dispose()
    {
        if (_context == null) return;
        Methods.ZSTD_freeDCtx(_context);
        _context = null;
    }
}
