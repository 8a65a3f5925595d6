using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Security.Cryptography;

namespace Backups.Core.Crypto;

/// <summary>
/// The scrypt key derivation function of RFC 7914, which restic uses to turn a password into a user key. Written
/// here rather than taken from BouncyCastle because every command pays it once at open: BouncyCastle's SCrypt
/// (which the tests check this one against) took `snapshots` of a small repository from 0.12 s to 0.16-0.17 s on a
/// quiet 2-core machine at restic's N = 2^15, r = 8, p = 1 (a third of an unchanged repeat backup's time is opening),
/// and left its 32 MiB scratch on the GC heap for the rest of the command.
/// </summary>
public static class Scrypt
{
    /// <summary>
    /// The most memory a derivation may hold at once (128 * r * N bytes per lane). restic calibrates its keys within
    /// 60 MiB per lane (its KDFMemory), rustic's defaults take 128 MiB; a key file asking for more is far more
    /// likely damage or hostility than a real key, and this much still fits a 512 MB Lambda function.
    /// </summary>
    public const long MaxMemory = 256L << 20;

    /// <summary>
    /// The most work a derivation may ask for, counted as the bytes all p lanes sweep (128 * r * N * p): 16 lanes at
    /// the memory limit, or 128 of restic's 32 MiB lanes (restic raises p until a derivation takes 0.5 s on the
    /// machine that wrote the key, a handful of lanes). Without it a planted key with a huge p keeps a reader busy
    /// for hours.
    /// </summary>
    public const long MaxWork = 4L << 30;

    private const int WordsPerSalsaBlock = 16;

    /// <summary>
    /// The Salsa20 words in the order the SIMD rounds want them: four diagonals, so that each column or row
    /// quarter-round works on whole vectors. Slot i holds word <c>DiagonalOrder[i]</c> of the RFC's layout,
    /// and slot 0 is still word 0, which is what Integerify reads.
    /// </summary>
    private static ReadOnlySpan<byte> DiagonalOrder => [0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11];

    /// <summary>Derives <paramref name="length"/> bytes from a password with cost parameters N, r and p.</summary>
    /// <exception cref="ArgumentException">The parameters are out of range.</exception>
    public static byte[] DeriveKey(ReadOnlySpan<byte> password, ReadOnlySpan<byte> salt, int n, int r, int p, int length)
    {
        if (n < 2 || (n & (n - 1)) != 0)
            throw new ArgumentException($"scrypt N must be a power of two greater than 1, not {n}", nameof(n));
        if (r < 1 || p < 1 || (long)r * p >= 1 << 30)
            throw new ArgumentException($"scrypt needs r >= 1, p >= 1 and r * p < 2^30, not r={r}, p={p}", nameof(r));
        long blockBytes = 128L * r;
        if (blockBytes * n > MaxMemory || blockBytes * p > MaxMemory)
            throw new ArgumentException(
                $"scrypt parameters N={n}, r={r}, p={p} need more than {MaxMemory >> 20} MiB", nameof(n));
        if (blockBytes * n * p > MaxWork)
            throw new ArgumentException(
                $"scrypt parameters N={n}, r={r}, p={p} ask for more than {MaxWork >> 30} GiB of work", nameof(p));
        if (length < 1)
            throw new ArgumentException($"scrypt output length must be positive, not {length}", nameof(length));

        byte[] b = new byte[blockBytes * p];
        Rfc2898DeriveBytes.Pbkdf2(password, salt, b, 1, HashAlgorithmName.SHA256);

        // The p lanes are independent, so spread them over the cores, but never hold more than MaxMemory at once.
        int lanes = (int)Math.Min(Math.Min(p, Environment.ProcessorCount), MaxMemory / (blockBytes * n));
        void Lane(int first)
        {
            using var work = new Workspace(n, r);
            for (int i = first; i < p; i += lanes)
                RoMix(b.AsSpan((int)(i * blockBytes), (int)blockBytes), work, n, r);
        }
        var helpers = new Task[lanes - 1];
        for (int t = 1; t < lanes; t++)
        {
            int first = t;
            helpers[t - 1] = Task.Run(() => Lane(first));
        }
        Lane(0);
        Task.WaitAll(helpers);

        byte[] key = new byte[length];
        Rfc2898DeriveBytes.Pbkdf2(password, b, key, 1, HashAlgorithmName.SHA256);
        CryptographicOperations.ZeroMemory(b);
        return key;
    }

    /// <summary>
    /// ROMix's scratch memory: the N-entry table V and the two blocks X and Y. V lives outside the GC heap:
    /// it is tens of MiB needed for a moment, and native memory of that size goes back to the system when
    /// freed, instead of staying in the heap for the rest of a backup.
    /// </summary>
    private sealed unsafe class Workspace : IDisposable
    {
        private readonly uint* _v;
        private readonly int _length;
        public readonly uint[] XY;

        public Workspace(int n, int r)
        {
            _length = 32 * r * n;
            _v = (uint*)NativeMemory.Alloc((nuint)_length, sizeof(uint));
            XY = new uint[64 * r];
        }

        public Span<uint> V => new(_v, _length);

        /// <summary>The table holds password-derived state: clear it before giving it back.</summary>
        public void Dispose()
        {
            CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(V));
            CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(XY.AsSpan()));
            NativeMemory.Free(_v);
        }
    }

    private static void RoMix(Span<byte> block, Workspace work, int n, int r)
    {
        int vectors = 8 * r;
        Span<Vector128<uint>> v = MemoryMarshal.Cast<uint, Vector128<uint>>(work.V);
        Span<Vector128<uint>> x = MemoryMarshal.Cast<uint, Vector128<uint>>(work.XY.AsSpan())[..vectors];
        Span<Vector128<uint>> y = MemoryMarshal.Cast<uint, Vector128<uint>>(work.XY.AsSpan())[vectors..];

        Span<uint> words = MemoryMarshal.Cast<Vector128<uint>, uint>(v[..vectors]);
        for (int i = 0; i < words.Length; i++)
        {
            int salsaBlock = i / WordsPerSalsaBlock;
            int word = DiagonalOrder[i % WordsPerSalsaBlock];
            words[i] = BinaryPrimitives.ReadUInt32LittleEndian(block[(4 * (salsaBlock * WordsPerSalsaBlock + word))..]);
        }

        for (int i = 0; i + 1 < n; i++)
            BlockMix(v.Slice(i * vectors, vectors), [], v.Slice((i + 1) * vectors, vectors), r);
        BlockMix(v.Slice((n - 1) * vectors, vectors), [], x, r);

        int lastSalsaBlock = (2 * r - 1) * 4;
        for (int i = 0; i < n; i++)
        {
            int j = (int)(x[lastSalsaBlock].ToScalar() & (uint)(n - 1));
            BlockMix(x, v.Slice(j * vectors, vectors), y, r);
            Span<Vector128<uint>> t = x;
            x = y;
            y = t;
        }

        words = MemoryMarshal.Cast<Vector128<uint>, uint>(x);
        for (int i = 0; i < words.Length; i++)
        {
            int salsaBlock = i / WordsPerSalsaBlock;
            int word = DiagonalOrder[i % WordsPerSalsaBlock];
            BinaryPrimitives.WriteUInt32LittleEndian(block[(4 * (salsaBlock * WordsPerSalsaBlock + word))..], words[i]);
        }
    }

    /// <summary>
    /// BlockMix of <c>a ^ b</c> (or of <paramref name="a"/> alone when <paramref name="b"/> is empty) into
    /// <paramref name="output"/>. Even Salsa outputs go to the first half, odd ones to the second.
    /// </summary>
    private static void BlockMix(ReadOnlySpan<Vector128<uint>> a, ReadOnlySpan<Vector128<uint>> b, Span<Vector128<uint>> output, int r)
    {
        bool xor = !b.IsEmpty;
        int last = (2 * r - 1) * 4;
        Vector128<uint> x0 = a[last], x1 = a[last + 1], x2 = a[last + 2], x3 = a[last + 3];
        if (xor)
        {
            x0 ^= b[last];
            x1 ^= b[last + 1];
            x2 ^= b[last + 2];
            x3 ^= b[last + 3];
        }
        for (int i = 0; i < 2 * r; i++)
        {
            int at = 4 * i;
            x0 ^= a[at];
            x1 ^= a[at + 1];
            x2 ^= a[at + 2];
            x3 ^= a[at + 3];
            if (xor)
            {
                x0 ^= b[at];
                x1 ^= b[at + 1];
                x2 ^= b[at + 2];
                x3 ^= b[at + 3];
            }
            Salsa20x8(ref x0, ref x1, ref x2, ref x3);
            int to = 4 * ((i & 1) == 0 ? i / 2 : r + i / 2);
            output[to] = x0;
            output[to + 1] = x1;
            output[to + 2] = x2;
            output[to + 3] = x3;
        }
    }

    /// <summary>
    /// Salsa20/8 on a block in diagonal order: a = (x0, x5, x10, x15), b = (x4, x9, x14, x3),
    /// c = (x8, x13, x2, x7), d = (x12, x1, x6, x11), so lane i of a..d is column quarter-round i.
    /// Rotating b, c and d by one, two and three lanes lines the rows up the same way.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Salsa20x8(ref Vector128<uint> a, ref Vector128<uint> b, ref Vector128<uint> c, ref Vector128<uint> d)
    {
        Vector128<uint> x0 = a, x1 = b, x2 = c, x3 = d;
        for (int i = 0; i < 4; i++)
        {
            x1 ^= RotateLeft(x0 + x3, 7);
            x2 ^= RotateLeft(x1 + x0, 9);
            x3 ^= RotateLeft(x2 + x1, 13);
            x0 ^= RotateLeft(x3 + x2, 18);

            // Rows: (x1, x6, x11, x12) from d, (x2, x7, x8, x13) from c, (x3, x4, x9, x14) from b.
            Vector128<uint> row1 = Vector128.Shuffle(x3, Vector128.Create(1u, 2, 3, 0));
            Vector128<uint> row2 = Vector128.Shuffle(x2, Vector128.Create(2u, 3, 0, 1));
            Vector128<uint> row3 = Vector128.Shuffle(x1, Vector128.Create(3u, 0, 1, 2));
            row1 ^= RotateLeft(x0 + row3, 7);
            row2 ^= RotateLeft(row1 + x0, 9);
            row3 ^= RotateLeft(row2 + row1, 13);
            x0 ^= RotateLeft(row3 + row2, 18);
            x3 = Vector128.Shuffle(row1, Vector128.Create(3u, 0, 1, 2));
            x2 = Vector128.Shuffle(row2, Vector128.Create(2u, 3, 0, 1));
            x1 = Vector128.Shuffle(row3, Vector128.Create(1u, 2, 3, 0));
        }
        a += x0;
        b += x1;
        c += x2;
        d += x3;
    }

    /// <summary>Salsa is one long dependency chain, so a single-instruction rotate (AVX-512) pays off directly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> RotateLeft(Vector128<uint> v, [ConstantExpected] byte bits) =>
        Avx512F.VL.IsSupported
            ? Avx512F.VL.RotateLeft(v, bits)
            : Vector128.ShiftLeft(v, bits) | Vector128.ShiftRightLogical(v, 32 - bits);
}
