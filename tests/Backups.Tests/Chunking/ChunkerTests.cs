using System.Security.Cryptography;
using Backups.Core.Chunking;
using Xunit;

namespace Backups.Tests.Chunking;

public class ChunkerTests
{
    private static readonly Polynomial TestPol = new(0x3DA3358B4DC173);
    private const int Min = Chunker.DefaultMinSize;
    private const int Max = Chunker.DefaultMaxSize;

    private static byte[] RandomBytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static async Task<List<byte[]>> ChunkAll(Stream source, int minSize = Min, int maxSize = Max, Polynomial? pol = null)
    {
        var chunks = new List<byte[]>();
        using var chunker = new Chunker(pol ?? TestPol, source, minSize, maxSize);
        long offset = 0;
        while (await chunker.NextAsync() is { } chunk)
        {
            using (chunk)
            {
                Assert.Equal(chunk.Length, chunk.Data.Length);
                Assert.Equal(offset, chunk.Offset);
                offset += chunk.Length;
                chunks.Add(chunk.Data.ToArray());
            }
        }
        Assert.Null(await chunker.NextAsync());
        Assert.Equal(offset, chunker.BytesRead);
        return chunks;
    }

    private static Task<List<byte[]>> ChunkAll(byte[] data, int minSize = Min, int maxSize = Max) =>
        ChunkAll(new MemoryStream(data, writable: false), minSize, maxSize);

    private static void AssertWellFormed(byte[] data, List<byte[]> chunks, int minSize = Min, int maxSize = Max)
    {
        Assert.Equal(data, chunks.SelectMany(c => c).ToArray());
        for (int i = 0; i < chunks.Count; i++)
        {
            Assert.NotEmpty(chunks[i]);
            Assert.True(chunks[i].Length <= maxSize);
            if (i < chunks.Count - 1) Assert.True(chunks[i].Length >= minSize);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(Min - 1)]
    [InlineData(Min)]
    [InlineData(Min + 1)]
    [InlineData(Max)]
    [InlineData(Max + 1)]
    [InlineData(2 * Max + 3)]
    [InlineData(20 * 1024 * 1024 + 12345)]
    public async Task Random_data_is_cut_where_restic_cuts_it(int length)
    {
        var data = RandomBytes(length, length);
        var chunks = await ChunkAll(data);
        AssertWellFormed(data, chunks);
        Assert.Equal(new ReferenceChunker(TestPol).Lengths(data), chunks.Select(c => c.Length).ToList());
    }

    [Fact]
    public async Task Empty_stream_has_no_chunks() => Assert.Empty(await ChunkAll([]));

    [Theory]
    [InlineData(64, 64)]
    [InlineData(64, 1000)]
    [InlineData(1000, 4096)]
    [InlineData(4096, 64 * 1024)]
    [InlineData(300 * 1024, 700 * 1024)]
    public async Task Custom_boundaries_match_reference(int minSize, int maxSize)
    {
        var data = RandomBytes(6 * 1024 * 1024 + 77, minSize);
        // Plant windows that are cuts close together, so cuts before MaxSize happen often.
        var magic = MagicWindow();
        var rng = new Random(maxSize);
        for (int i = 0; i < 200; i++) magic.CopyTo(data.AsSpan(rng.Next(data.Length - magic.Length)));

        var chunks = await ChunkAll(data, minSize, maxSize);
        AssertWellFormed(data, chunks, minSize, maxSize);
        var expected = new ReferenceChunker(TestPol).Lengths(data, minSize, maxSize);
        Assert.Equal(expected, chunks.Select(c => c.Length).ToList());
        if (minSize < maxSize) Assert.Contains(expected.SkipLast(1), l => l < maxSize);
    }

    // restic's chunker_test.go: null bytes split at exactly MinSize even when the input is a multiple of it.
    [Fact]
    public async Task Zeros_are_cut_at_min_size_as_in_restic_tests()
    {
        var chunks = await ChunkAll(new byte[4 * Min]);
        Assert.Equal(4, chunks.Count);
        foreach (var c in chunks)
        {
            Assert.Equal(Min, c.Length);
            Assert.Equal("07854d2fef297a06ba81685e660c332de36d5d18d546927d30daad6d7fda1541", Convert.ToHexStringLower(SHA256.HashData(c)));
        }

        var tail = await ChunkAll(new byte[3 * Min + Min / 2]);
        Assert.Equal([Min, Min, Min, Min / 2], tail.Select(c => c.Length));
    }

    [Theory]
    [InlineData(1, 3 * 1024 * 1024 + 5)]
    [InlineData(7919, 25 * 1024 * 1024)]
    [InlineData(0, 25 * 1024 * 1024)] // random sizes from 1 to 200 000
    public async Task Short_reads_give_the_same_chunks(int readSize, int length)
    {
        var data = RandomBytes(length, readSize);
        var magic = MagicWindow();
        magic.CopyTo(data.AsSpan(Min + 1000)); // a cut inside the first hashed stretch
        var expected = await ChunkAll(data, Min, length < Max ? 2 * Min : Max);
        var actual = await ChunkAll(new TrickleStream(data, readSize), Min, length < Max ? 2 * Min : Max);
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++) Assert.Equal(expected[i], actual[i]);
        Assert.Equal(Min + 1000 + magic.Length, expected[0].Length);
    }

    [Fact]
    public async Task Other_polynomial_cuts_elsewhere()
    {
        var data = RandomBytes(12 * 1024 * 1024, 99);
        var pol = new Polynomial(0x2482734cacca49);
        var chunks = await ChunkAll(new MemoryStream(data), pol: pol);
        Assert.Equal(new ReferenceChunker(pol).Lengths(data), chunks.Select(c => c.Length).ToList());
        Assert.NotEqual(new ReferenceChunker(TestPol).Lengths(data), chunks.Select(c => c.Length).ToList());
    }

    [Fact]
    public void Find_cut_matches_reference_everywhere()
    {
        // A 12-bit mask gives a cut every 4 KiB, so lanes, block ends and rescans are all exercised.
        const ulong mask = (1UL << 12) - 1;
        var data = RandomBytes(400 * 1024, 5);
        var digests = new ReferenceChunker(TestPol).WindowDigests(data);
        var tables = RabinTables.For(TestPol);
        var rng = new Random(6);
        for (int round = 0; round < 2000; round++)
        {
            int end = rng.Next(64, data.Length + 1);
            int from = rng.Next(64, end + 2);
            if (round % 3 == 0) from = Math.Min(end + 1, 64 + rng.Next(64));
            int expected = -1;
            for (int p = from; p <= end; p++)
            {
                if ((digests[p] & mask) == 0)
                {
                    expected = p;
                    break;
                }
            }
            Assert.Equal(expected, Chunker.FindCut(data.AsSpan(0, end), from, tables, mask));
        }
    }

    [Fact]
    public void Find_cut_finds_every_cut_in_order()
    {
        const ulong mask = (1UL << 10) - 1;
        var data = RandomBytes(3 * 1024 * 1024, 8);
        var digests = new ReferenceChunker(TestPol).WindowDigests(data);
        var expected = Enumerable.Range(64, data.Length - 63).Where(p => (digests[p] & mask) == 0).ToList();
        var found = new List<int>();
        var tables = RabinTables.For(TestPol);
        for (int p = 64; (p = Chunker.FindCut(data, p, tables, mask)) >= 0; p++) found.Add(p);
        Assert.Equal(expected, found);
    }

    [Fact]
    public async Task Chunks_own_their_buffers()
    {
        var data = RandomBytes(3 * Max, 3);
        using var chunker = new Chunker(TestPol, new MemoryStream(data), 4096, 8192);
        var held = new List<Chunk>();
        while (await chunker.NextAsync() is { } chunk) held.Add(chunk);
        Assert.Equal(data, held.SelectMany(c => c.Data.ToArray()).ToArray());
        foreach (var c in held)
        {
            c.Dispose();
            c.Dispose();
            Assert.Throws<ObjectDisposedException>(() => c.Data);
        }
    }

    [Fact]
    public void Rejects_unusable_parameters()
    {
        var s = new MemoryStream();
        Assert.Throws<ArgumentOutOfRangeException>(() => new Chunker(TestPol, s, 63, 1000));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Chunker(TestPol, s, 1000, 999));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Chunker(new Polynomial(1UL << 54 | 1), s));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Chunker(new Polynomial(0x7f), s));
    }

    /// <summary>64 bytes whose fingerprint under <see cref="TestPol"/> is a cut (low 20 bits zero).</summary>
    private static byte[] MagicWindow()
    {
        var data = RandomBytes(8 * 1024 * 1024, 1234);
        int cut = Chunker.FindCut(data, 64, RabinTables.For(TestPol), Chunker.SplitMask);
        Assert.True(cut > 0);
        return data[(cut - 64)..cut];
    }

    /// <summary>A pipe-like stream: every read returns at most readSize bytes (0: a random size).</summary>
    private sealed class TrickleStream(byte[] data, int readSize) : Stream
    {
        private readonly Random _rng = new(readSize);
        private int _pos;
        private int _reads;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = Math.Min(Math.Min(buffer.Length, data.Length - _pos), readSize > 0 ? readSize : _rng.Next(1, 200_000));
            data.AsSpan(_pos, n).CopyTo(buffer);
            _pos += n;
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            if (_reads++ % 64 == 0) await Task.Yield();
            return Read(buffer.Span);
        }
    }
}
