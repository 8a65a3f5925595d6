using Backups.Core.Chunking;

namespace Backups.Tests.Chunking;

/// <summary>
/// restic's chunker byte by byte as restic/chunker runs it (sliding window, reset with a 1 byte,
/// MinSize - 64 bytes skipped), with the digest reduced by plain polynomial division instead of
/// lookup tables: the slow oracle for the fast chunker.
/// </summary>
internal sealed class ReferenceChunker
{
    private const int Window = 64;

    private readonly Polynomial _pol;
    private readonly ulong[] _out = new ulong[256];
    private readonly byte[] _window = new byte[Window];
    private int _wpos;
    private ulong _digest;

    public ReferenceChunker(Polynomial pol)
    {
        _pol = pol;
        // Removing byte b from the front of the window cancels b·x^(8·63).
        var shift = new Polynomial(1);
        for (int i = 0; i < 8 * (Window - 1); i++) shift = shift.MulMod(new Polynomial(2), pol);
        for (int b = 0; b < 256; b++) _out[b] = new Polynomial((ulong)b).MulMod(shift, pol).Value;
    }

    public ulong Slide(byte b)
    {
        byte gone = _window[_wpos];
        _window[_wpos] = b;
        _wpos = (_wpos + 1) % Window;
        _digest = new Polynomial(((_digest ^ _out[gone]) << 8) | b).Mod(_pol).Value;
        return _digest;
    }

    private void Reset()
    {
        Array.Clear(_window);
        _wpos = 0;
        _digest = 0;
        Slide(1);
    }

    public List<int> Lengths(ReadOnlySpan<byte> data, int minSize = Chunker.DefaultMinSize,
        int maxSize = Chunker.DefaultMaxSize, ulong mask = (1UL << 20) - 1)
    {
        var lengths = new List<int>();
        Reset();
        int count = 0, pre = minSize - Window;
        foreach (byte b in data)
        {
            count++;
            if (pre > 0)
            {
                pre--;
                continue;
            }
            ulong digest = Slide(b);
            if (((digest & mask) == 0 || count >= maxSize) && count >= minSize)
            {
                lengths.Add(count);
                Reset();
                count = 0;
                pre = minSize - Window;
            }
        }
        if (count > 0) lengths.Add(count);
        return lengths;
    }

    /// <summary>digests[p] = fingerprint of data[p-64..p) for p ≥ 64.</summary>
    public ulong[] WindowDigests(ReadOnlySpan<byte> data)
    {
        var digests = new ulong[data.Length + 1];
        Array.Clear(_window);
        _wpos = 0;
        _digest = 0;
        for (int p = 1; p <= data.Length; p++) digests[p] = Slide(data[p - 1]);
        return digests;
    }
}
