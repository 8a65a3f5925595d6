using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using X86Aes = System.Runtime.Intrinsics.X86.Aes;
using Sse2 = System.Runtime.Intrinsics.X86.Sse2;

namespace Backups.Core.Crypto;

/// <summary>
/// AES in counter mode as Go's <c>crypto/cipher.NewCTR</c> does it (and so as restic does it): the 16-byte IV is
/// the first counter block, and the counter is a 128-bit big-endian integer that wraps at 2^128.
/// Instances are immutable after construction and safe to use from many threads at once.
/// </summary>
public sealed class AesCtr
{
    public const int BlockSize = 16;

    // With AES-NI the whole cipher is a handful of instructions over this expanded key; without it
    // (e.g. on ARM) we lean on the platform's AES-ECB, which is hardware-accelerated there too.
    private readonly Vector128<byte>[]? _roundKeys;
    private readonly EcbPool? _ecb;

    /// <summary>Creates a cipher for a 16-byte (AES-128) or 32-byte (AES-256) key.</summary>
    public AesCtr(ReadOnlySpan<byte> key) : this(key, X86Aes.IsSupported)
    {
    }

    /// <summary>Lets tests run the portable path on machines that have AES-NI.</summary>
    internal AesCtr(ReadOnlySpan<byte> key, bool useAesNi)
    {
        if (key.Length is not (16 or 32))
            throw new ArgumentException($"AES key must be 16 or 32 bytes, not {key.Length}", nameof(key));
        if (useAesNi)
            _roundKeys = key.Length == 16 ? ExpandKey128(key) : ExpandKey256(key);
        else
            _ecb = new EcbPool(key);
    }

    /// <summary>
    /// XORs the key stream that starts at counter <paramref name="iv"/> into <paramref name="input"/>, writing
    /// <c>input.Length</c> bytes to <paramref name="output"/>. Encryption and decryption are the same operation.
    /// <paramref name="output"/> may be the very same memory as <paramref name="input"/>, but must not overlap it otherwise.
    /// </summary>
    public void Transform(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> input, Span<byte> output)
    {
        if (iv.Length != BlockSize)
            throw new ArgumentException($"IV must be {BlockSize} bytes, not {iv.Length}", nameof(iv));
        if (output.Length < input.Length)
            throw new ArgumentException("output is shorter than input", nameof(output));
        if (input.Overlaps(output, out int offset) && offset != 0)
            throw new ArgumentException("output overlaps input at a different position", nameof(output));

        ulong hi = BinaryPrimitives.ReadUInt64BigEndian(iv);
        ulong lo = BinaryPrimitives.ReadUInt64BigEndian(iv[8..]);
        if (_roundKeys != null)
            TransformAesNi(_roundKeys, hi, lo, input, output);
        else
            _ecb!.Transform(hi, lo, input, output);
    }

    /// <summary>Encrypts one 16-byte block (AES-ECB); Poly1305-AES derives its per-message key this way.</summary>
    internal void EncryptBlock(ReadOnlySpan<byte> input, Span<byte> output)
    {
        if (input.Length != BlockSize || output.Length < BlockSize)
            throw new ArgumentException($"a block is {BlockSize} bytes");
        if (_roundKeys != null)
            EncryptAesNi(_roundKeys, Vector128.Create(input)).CopyTo(output);
        else
            _ecb!.EncryptBlock(input, output);
    }

    private static void TransformAesNi(Vector128<byte>[] keys, ulong hi, ulong lo, ReadOnlySpan<byte> input, Span<byte> output)
    {
        ref byte src = ref MemoryMarshal.GetReference(input);
        ref byte dst = ref MemoryMarshal.GetReference(output);
        nuint length = (nuint)input.Length;
        nuint at = 0;
        int last = keys.Length - 1;

        // Eight independent blocks keep the AES units busy: each round has a latency of several cycles but the
        // CPU can start one or two per cycle.
        while (length - at >= 8 * BlockSize)
        {
            Vector128<byte> k = keys[0];
            Vector128<byte> b0 = NextCounter(ref hi, ref lo) ^ k;
            Vector128<byte> b1 = NextCounter(ref hi, ref lo) ^ k;
            Vector128<byte> b2 = NextCounter(ref hi, ref lo) ^ k;
            Vector128<byte> b3 = NextCounter(ref hi, ref lo) ^ k;
            Vector128<byte> b4 = NextCounter(ref hi, ref lo) ^ k;
            Vector128<byte> b5 = NextCounter(ref hi, ref lo) ^ k;
            Vector128<byte> b6 = NextCounter(ref hi, ref lo) ^ k;
            Vector128<byte> b7 = NextCounter(ref hi, ref lo) ^ k;
            for (int i = 1; i < last; i++)
            {
                k = keys[i];
                b0 = X86Aes.Encrypt(b0, k);
                b1 = X86Aes.Encrypt(b1, k);
                b2 = X86Aes.Encrypt(b2, k);
                b3 = X86Aes.Encrypt(b3, k);
                b4 = X86Aes.Encrypt(b4, k);
                b5 = X86Aes.Encrypt(b5, k);
                b6 = X86Aes.Encrypt(b6, k);
                b7 = X86Aes.Encrypt(b7, k);
            }
            k = keys[last];
            XorStore(X86Aes.EncryptLast(b0, k), ref src, ref dst, at);
            XorStore(X86Aes.EncryptLast(b1, k), ref src, ref dst, at + 16);
            XorStore(X86Aes.EncryptLast(b2, k), ref src, ref dst, at + 32);
            XorStore(X86Aes.EncryptLast(b3, k), ref src, ref dst, at + 48);
            XorStore(X86Aes.EncryptLast(b4, k), ref src, ref dst, at + 64);
            XorStore(X86Aes.EncryptLast(b5, k), ref src, ref dst, at + 80);
            XorStore(X86Aes.EncryptLast(b6, k), ref src, ref dst, at + 96);
            XorStore(X86Aes.EncryptLast(b7, k), ref src, ref dst, at + 112);
            at += 8 * BlockSize;
        }
        while (length - at >= BlockSize)
        {
            XorStore(EncryptAesNi(keys, NextCounter(ref hi, ref lo)), ref src, ref dst, at);
            at += BlockSize;
        }
        if (at < length)
        {
            Span<byte> stream = stackalloc byte[BlockSize];
            EncryptAesNi(keys, NextCounter(ref hi, ref lo)).CopyTo(stream);
            int done = (int)at;
            Xor(input[done..], stream, output[done..input.Length]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> NextCounter(ref ulong hi, ref ulong lo)
    {
        Vector128<byte> block = Vector128.Create(
            BinaryPrimitives.ReverseEndianness(hi), BinaryPrimitives.ReverseEndianness(lo)).AsByte();
        if (++lo == 0)
            hi++;
        return block;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void XorStore(Vector128<byte> stream, ref byte src, ref byte dst, nuint at) =>
        (Vector128.LoadUnsafe(ref src, at) ^ stream).StoreUnsafe(ref dst, at);

    private static Vector128<byte> EncryptAesNi(Vector128<byte>[] keys, Vector128<byte> block)
    {
        int last = keys.Length - 1;
        block ^= keys[0];
        for (int i = 1; i < last; i++)
            block = X86Aes.Encrypt(block, keys[i]);
        return X86Aes.EncryptLast(block, keys[last]);
    }

    /// <summary><c>destination = a ^ b</c> over <c>destination.Length</c> bytes.</summary>
    private static void Xor(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> destination)
    {
        int i = 0;
        for (; i + 16 <= destination.Length; i += 16)
            (Vector128.Create(a[i..]) ^ Vector128.Create(b[i..])).CopyTo(destination[i..]);
        for (; i < destination.Length; i++)
            destination[i] = (byte)(a[i] ^ b[i]);
    }

    // Key expansion per FIPS-197 using AESKEYGENASSIST for SubWord/RotWord; the instruction wants its round
    // constant as an immediate, hence the unrolled calls.
    private static Vector128<byte>[] ExpandKey128(ReadOnlySpan<byte> key)
    {
        var k = new Vector128<byte>[11];
        k[0] = Vector128.Create(key);
        k[1] = NextRoundKey(k[0], X86Aes.KeygenAssist(k[0], 0x01));
        k[2] = NextRoundKey(k[1], X86Aes.KeygenAssist(k[1], 0x02));
        k[3] = NextRoundKey(k[2], X86Aes.KeygenAssist(k[2], 0x04));
        k[4] = NextRoundKey(k[3], X86Aes.KeygenAssist(k[3], 0x08));
        k[5] = NextRoundKey(k[4], X86Aes.KeygenAssist(k[4], 0x10));
        k[6] = NextRoundKey(k[5], X86Aes.KeygenAssist(k[5], 0x20));
        k[7] = NextRoundKey(k[6], X86Aes.KeygenAssist(k[6], 0x40));
        k[8] = NextRoundKey(k[7], X86Aes.KeygenAssist(k[7], 0x80));
        k[9] = NextRoundKey(k[8], X86Aes.KeygenAssist(k[8], 0x1B));
        k[10] = NextRoundKey(k[9], X86Aes.KeygenAssist(k[9], 0x36));
        return k;
    }

    private static Vector128<byte>[] ExpandKey256(ReadOnlySpan<byte> key)
    {
        var k = new Vector128<byte>[15];
        k[0] = Vector128.Create(key);
        k[1] = Vector128.Create(key[16..]);
        k[2] = NextRoundKey(k[0], X86Aes.KeygenAssist(k[1], 0x01));
        k[3] = NextOddRoundKey(k[1], X86Aes.KeygenAssist(k[2], 0));
        k[4] = NextRoundKey(k[2], X86Aes.KeygenAssist(k[3], 0x02));
        k[5] = NextOddRoundKey(k[3], X86Aes.KeygenAssist(k[4], 0));
        k[6] = NextRoundKey(k[4], X86Aes.KeygenAssist(k[5], 0x04));
        k[7] = NextOddRoundKey(k[5], X86Aes.KeygenAssist(k[6], 0));
        k[8] = NextRoundKey(k[6], X86Aes.KeygenAssist(k[7], 0x08));
        k[9] = NextOddRoundKey(k[7], X86Aes.KeygenAssist(k[8], 0));
        k[10] = NextRoundKey(k[8], X86Aes.KeygenAssist(k[9], 0x10));
        k[11] = NextOddRoundKey(k[9], X86Aes.KeygenAssist(k[10], 0));
        k[12] = NextRoundKey(k[10], X86Aes.KeygenAssist(k[11], 0x20));
        k[13] = NextOddRoundKey(k[11], X86Aes.KeygenAssist(k[12], 0));
        k[14] = NextRoundKey(k[12], X86Aes.KeygenAssist(k[13], 0x40));
        return k;
    }

    /// <summary>Words w[i] = w[i-Nk] ^ ... with RotWord(SubWord(last word)) ^ rcon, which the assist put in word 3.</summary>
    private static Vector128<byte> NextRoundKey(Vector128<byte> previous, Vector128<byte> assist) =>
        PrefixXor(previous) ^ Sse2.Shuffle(assist.AsUInt32(), 0xFF).AsByte();

    /// <summary>AES-256's in-between round keys use SubWord without rotation or rcon: word 2 of the assist.</summary>
    private static Vector128<byte> NextOddRoundKey(Vector128<byte> previous, Vector128<byte> assist) =>
        PrefixXor(previous) ^ Sse2.Shuffle(assist.AsUInt32(), 0xAA).AsByte();

    /// <summary>(w0, w0^w1, w0^w1^w2, w0^w1^w2^w3): the chained XOR of one key-schedule step.</summary>
    private static Vector128<byte> PrefixXor(Vector128<byte> v)
    {
        v ^= Sse2.ShiftLeftLogical128BitLane(v, 4);
        return v ^ Sse2.ShiftLeftLogical128BitLane(v, 8);
    }

    /// <summary>
    /// The portable path: counter blocks are encrypted in batches by the platform's AES-ECB. An ECB encryptor
    /// keeps its native context between calls but must not be shared between threads, so each caller rents one.
    /// </summary>
    private sealed class EcbPool(ReadOnlySpan<byte> key)
    {
        private const int BatchBytes = 4096;

        private readonly byte[] _key = key.ToArray();
        private readonly Worker?[] _idle = new Worker?[Environment.ProcessorCount];

        private sealed class Worker(ICryptoTransform encryptor)
        {
            public readonly ICryptoTransform Encryptor = encryptor;
            public readonly byte[] Buffer = new byte[BatchBytes];
        }

        public void Transform(ulong hi, ulong lo, ReadOnlySpan<byte> input, Span<byte> output)
        {
            Worker w = Rent();
            try
            {
                for (int at = 0; at < input.Length; at += BatchBytes)
                {
                    int n = Math.Min(BatchBytes, input.Length - at);
                    int blocks = (n + BlockSize - 1) / BlockSize;
                    for (int b = 0; b < blocks; b++)
                    {
                        BinaryPrimitives.WriteUInt64BigEndian(w.Buffer.AsSpan(b * BlockSize), hi);
                        BinaryPrimitives.WriteUInt64BigEndian(w.Buffer.AsSpan(b * BlockSize + 8), lo);
                        if (++lo == 0)
                            hi++;
                    }
                    w.Encryptor.TransformBlock(w.Buffer, 0, blocks * BlockSize, w.Buffer, 0);
                    Xor(input.Slice(at, n), w.Buffer, output.Slice(at, n));
                }
            }
            finally
            {
                Return(w);
            }
        }

        public void EncryptBlock(ReadOnlySpan<byte> input, Span<byte> output)
        {
            Worker w = Rent();
            try
            {
                input.CopyTo(w.Buffer);
                w.Encryptor.TransformBlock(w.Buffer, 0, BlockSize, w.Buffer, 0);
                w.Buffer.AsSpan(0, BlockSize).CopyTo(output);
            }
            finally
            {
                Return(w);
            }
        }

        private Worker Rent()
        {
            for (int i = 0; i < _idle.Length; i++)
            {
                Worker? w = Interlocked.Exchange(ref _idle[i], null);
                if (w != null)
                    return w;
            }
            using var aes = Aes.Create();
            aes.Key = _key;
            aes.Mode = CipherMode.ECB;
            aes.Padding = PaddingMode.None;
            return new Worker(aes.CreateEncryptor());
        }

        private void Return(Worker w)
        {
            for (int i = 0; i < _idle.Length; i++)
            {
                if (Interlocked.CompareExchange(ref _idle[i], w, null) == null)
                    return;
            }
            w.Encryptor.Dispose();
        }
    }
}
