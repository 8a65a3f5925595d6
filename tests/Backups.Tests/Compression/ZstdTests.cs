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

    [Fact]
    public void Text_is_compressed_and_round_trips()
    {
        var text = Text(1 << 20);
        var buffer = new byte[Zstd.Bound(text.Length)];
        var n = Zstd.TryCompress(text, buffer, CompressionMode.Auto);
        Assert.InRange(n, 1, text.Length / 4);
        Assert.Equal(text, Zstd.Decompress(buffer.AsSpan(0, n), text.Length));
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
