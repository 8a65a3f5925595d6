using System.Buffers;
using Backups.Core.Compression;
using Xunit;

namespace Backups.Tests.Compression;

/// <summary>When a data blob is compressed: auto mode skips big blobs whose start does not compress.</summary>
public sealed class ZstdTests
{
    private static byte[] Random(int length) => System.Security.Cryptography.RandomNumberGenerator.GetBytes(length);

    private static byte[] Text(int length) =>
        System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, length / 20 + 1).Select(i => $"row {i,8} value {i % 97,3};")))[..length];

    private static int Compress(byte[] data, CompressionMode mode) =>
        Zstd.TryCompress(data, new byte[Zstd.Bound(data.Length)], mode);

    /// <summary>WAL's own match search writes frames any zstd reads, as it does the others'.</summary>
    [Theory]
    [InlineData(ContentKind.General)]
    [InlineData(ContentKind.Wal)]
    public void Text_is_compressed_and_round_trips(ContentKind kind)
    {
        var text = Text(1 << 20);
        var buffer = new byte[Zstd.Bound(text.Length)];
        var n = Zstd.TryCompress(text, buffer, CompressionMode.Auto, kind);
        Assert.InRange(n, 1, text.Length / 4);
        Assert.Equal(text, Zstd.Decompress(buffer.AsSpan(0, n), text.Length));
        Assert.Equal(-1, Zstd.TryCompress(Random(1 << 20), buffer, CompressionMode.Auto, kind));
    }

    /// <summary>A blob's declared length must be met exactly, and one beyond the bound is refused before any
    /// buffer is allocated for it.</summary>
    [Theory]
    [InlineData(5000L)]
    [InlineData(Zstd.MaxDecompressedLength + 1L)]
    [InlineData(uint.MaxValue)]
    public void A_declared_length_that_is_wrong_or_too_large_is_refused(long declared)
    {
        var frame = Zstd.Compress(Text(4096));
        var e = Assert.Throws<InvalidDataException>(() => Zstd.Decompress(frame, declared));
        Assert.Contains(declared.ToString(), e.Message);
    }

    /// <summary>Written in pieces (more than its 64 KiB staging buffer, so several passes), ended, and read back through
    /// the frame's blocks, as an index file is: the frame declares no length.</summary>
    [Fact]
    public void What_a_zstd_writer_is_given_piece_by_piece_reads_back_whole()
    {
        var text = Text(300 * 1024);
        var output = new ArrayBufferWriter<byte>();
        using (var writer = new ZstdWriter(output))
        {
            for (var at = 0; at < text.Length; at += 1000)
            {
                var piece = text.AsSpan(at, Math.Min(1000, text.Length - at));
                piece.CopyTo(writer.GetSpan(piece.Length));
                writer.Advance(piece.Length);
            }
            writer.Finish();
        }
        Assert.InRange(output.WrittenCount, 1, text.Length / 4);
        Assert.Equal(text, Zstd.Decompress(output.WrittenSpan).ToArray());
    }

    [Fact]
    public void Random_data_is_stored_as_it_is()
    {
        Assert.Equal(-1, Compress(Random(1 << 20), CompressionMode.Auto));
        Assert.Equal(-1, Compress(Random(100_000), CompressionMode.Auto));
    }

    [Fact]
    public void Auto_mode_judges_a_big_blob_by_its_first_64_KiB_and_max_mode_tries_all_of_it()
    {
        // Random at the start, text after: auto stores it as it is (the price of not compressing all of every
        // incompressible blob); max compresses it.
        var mixed = Random(64 * 1024).Concat(Text(960 * 1024)).ToArray();
        Assert.Equal(-1, Compress(mixed, CompressionMode.Auto));
        Assert.InRange(Compress(mixed, CompressionMode.Max), 1, mixed.Length / 2);
        // Small blobs are always tried whole.
        var smallMixed = Random(64 * 1024).Concat(Text(60 * 1024)).ToArray();
        Assert.InRange(Compress(smallMixed, CompressionMode.Auto), 1, smallMixed.Length - 1);
    }
}
