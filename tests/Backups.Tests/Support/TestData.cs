using System.Security.Cryptography;
using System.Text;

namespace Backups.Tests.Support;

/// <summary>
/// Deterministic generated input of any length, streamed (never held in memory), so that a test can feed
/// hundreds of MiB to a program and compare a hash of what comes back.
/// </summary>
public sealed class TestData : Stream
{
    public enum Kind { Random, Text, Zeros }

    private static readonly string[] Words =
        "the quick brown fox jumps over lazy dog backup restore snapshot index pack blob tree order customer invoice amount status created updated 2026 error warning info request response latency".Split(' ');

    private readonly Kind _kind;
    private readonly long _length;
    private ulong _state;
    private long _position;
    private readonly byte[] _line = new byte[256];
    private int _lineLength, _linePos;
    private long _lines;

    public TestData(Kind kind, long length, int seed = 1)
    {
        _kind = kind;
        _length = length;
        _state = (ulong)seed * 0x9E3779B97F4A7C15UL + 1;
    }

    private ulong Next()
    {
        // xorshift64*: fast, and deterministic across runs and platforms.
        _state ^= _state >> 12;
        _state ^= _state << 25;
        _state ^= _state >> 27;
        return _state * 0x2545F4914F6CDD1DUL;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = (int)Math.Min(buffer.Length, _length - _position);
        var dest = buffer[..n];
        switch (_kind)
        {
            case Kind.Zeros:
                dest.Clear();
                break;
            case Kind.Random:
                var i = 0;
                for (; i + 8 <= n; i += 8) BitConverter.TryWriteBytes(dest[i..], Next());
                if (i < n)
                {
                    Span<byte> tail = stackalloc byte[8];
                    BitConverter.TryWriteBytes(tail, Next());
                    tail[..(n - i)].CopyTo(dest[i..]);
                }
                break;
            case Kind.Text:
                for (var k = 0; k < n; k++)
                {
                    if (_linePos == _lineLength) NextLine();
                    dest[k] = _line[_linePos++];
                }
                break;
        }
        _position += n;
        return n;
    }

    private void NextLine()
    {
        var sb = new StringBuilder();
        sb.Append(_lines++).Append('\t');
        var words = 4 + (int)(Next() % 12);
        for (var w = 0; w < words; w++) sb.Append(Words[Next() % (ulong)Words.Length]).Append(' ');
        sb.Append(Next() % 100000).Append('\n');
        _lineLength = Encoding.ASCII.GetBytes(sb.ToString(), _line);
        _linePos = 0;
    }

    public static string Sha256(Kind kind, long length, int seed = 1)
    {
        using var data = new TestData(kind, length, seed);
        return Convert.ToHexStringLower(SHA256.HashData(data));
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => _length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>A write-only stream that keeps only the SHA-256 and the length of what passes through.</summary>
public sealed class HashingStream : Stream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    public long Written { get; private set; }

    public string Sha256() => Convert.ToHexStringLower(_hash.GetCurrentHash());

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _hash.AppendData(buffer);
        Written += buffer.Length;
    }
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct)
    {
        Write(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => Written;
    public override long Position { get => Written; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    protected override void Dispose(bool disposing)
    {
        if (disposing) _hash.Dispose();
        base.Dispose(disposing);
    }
}
