using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backups.Core.Crypto;

/// <summary>
/// The Poly1305 one-time authenticator over a whole message: no associated data and no length block, as restic
/// uses it. restic's Poly1305-AES takes <c>r</c> from its MAC key and <c>s</c> = AES-128(mac.k, IV);
/// <see cref="CryptoKey"/> derives <c>s</c> and calls this.
/// </summary>
internal static class Poly1305
{
    public const int TagSize = 16;
    public const int KeyPartSize = 16;

    /// <summary>
    /// Messages shorter than this stay on the scalar code even with AVX2: the vector path first computes r^2, r^3
    /// and r^4 and at the end folds its four lanes together, about 40 ns in all. Measured on an AMD EPYC (Zen 4),
    /// JIT and Native AOT for x86-64-v3, the two paths break even at 160-200 bytes; at 256 the vector one is
    /// 1.1-1.3x faster, at 1 KiB 2x, at 1 MiB 3x.
    /// </summary>
    internal const int VectorMinimum = 256;

    private const int GroupSize = 4 * TagSize;
    private const ulong LimbMask = (1UL << 26) - 1;

    /// <summary>
    /// Computes the tag of <paramref name="message"/> under the one-time key <c>(r, s)</c>;
    /// <paramref name="r"/> is clamped here, so it may be passed raw.
    /// </summary>
    public static void ComputeTag(ReadOnlySpan<byte> r, ReadOnlySpan<byte> s, ReadOnlySpan<byte> message, Span<byte> tag) =>
        ComputeTag(r, s, message, tag, VectorMinimum);

    /// <summary>
    /// <see cref="ComputeTag(ReadOnlySpan{byte}, ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte})"/> with the
    /// length from which the AVX2 path is taken, so tests can pin either path (0 or <see cref="int.MaxValue"/>).
    /// </summary>
    /// <returns>How many leading bytes went through the AVX2 path.</returns>
    internal static int ComputeTag(ReadOnlySpan<byte> r, ReadOnlySpan<byte> s, ReadOnlySpan<byte> message, Span<byte> tag,
        int vectorMinimum)
    {
        if (r.Length != KeyPartSize || s.Length != KeyPartSize)
            throw new ArgumentException($"r and s must be {KeyPartSize} bytes each");
        if (tag.Length < TagSize)
            throw new ArgumentException($"the tag needs {TagSize} bytes", nameof(tag));

        var state = new State(r);
        int whole = message.Length & ~(TagSize - 1);
        int vectorized = 0;
        // Avx2.IsSupported is a constant to the JIT and to Native AOT, so arm64 builds keep only the scalar code.
        if (Avx2.IsSupported && message.Length >= vectorMinimum)
        {
            vectorized = message.Length & ~(GroupSize - 1);
            if (vectorized > 0)
                state.BlocksAvx2(message[..vectorized]);
        }
        state.Blocks(message[vectorized..whole], 1);
        if (whole < message.Length)
        {
            // The last partial block is padded with a 1 byte and zeros instead of getting the 2^128 bit.
            Span<byte> last = stackalloc byte[TagSize];
            last.Clear();
            message[whole..].CopyTo(last);
            last[message.Length - whole] = 1;
            state.Blocks(last, 0);
        }
        state.Finish(s, tag);
        return vectorized;
    }

    /// <summary>
    /// The accumulator h as three 64-bit words (h2 only ever holds a few bits) and the clamped r as two.
    /// Clamping clears the low 2 bits of r1, so 2^128 * r1 = 2^130 * (r1 / 4) ≡ 5 * (r1 / 4) (mod 2^130 - 5):
    /// the product's high terms fold back into the low ones multiplied by <c>r1 + r1 / 4</c>.
    /// </summary>
    private struct State
    {
        private readonly ulong _r0, _r1, _r1Times5Over4;
        private ulong _h0, _h1, _h2;

        public State(ReadOnlySpan<byte> r)
        {
            _r0 = BinaryPrimitives.ReadUInt64LittleEndian(r) & 0x0FFFFFFC0FFFFFFFUL;
            _r1 = BinaryPrimitives.ReadUInt64LittleEndian(r[8..]) & 0x0FFFFFFC0FFFFFFCUL;
            _r1Times5Over4 = _r1 + (_r1 >> 2);
        }

        /// <summary>h = (h + block + highBit * 2^128) * r mod (2^130 - 5), partially reduced, for each 16-byte block.</summary>
        public void Blocks(ReadOnlySpan<byte> data, ulong highBit)
        {
            ulong r0 = _r0, r1 = _r1, s1 = _r1Times5Over4;
            ulong h0 = _h0, h1 = _h1, h2 = _h2;
            for (int at = 0; at + TagSize <= data.Length; at += TagSize)
            {
                ulong m0 = BinaryPrimitives.ReadUInt64LittleEndian(data[at..]);
                ulong m1 = BinaryPrimitives.ReadUInt64LittleEndian(data[(at + 8)..]);

                h0 += m0;
                ulong carry = h0 < m0 ? 1UL : 0UL;
                h1 += carry;
                ulong carry2 = h1 < carry ? 1UL : 0UL;
                h1 += m1;
                carry2 += h1 < m1 ? 1UL : 0UL;
                h2 += carry2 + highBit;

                // d0 = h0 r0 + h1 (5 r1 / 4);  d1 = h0 r1 + h1 r0 + h2 (5 r1 / 4);  d2 = h2 r0.
                // h2 stays below 8 and r below 2^60, so the h2 products fit 64 bits and each d fits 128.
                ulong d0Hi = Math.BigMul(h0, r0, out ulong d0Lo);
                ulong tHi = Math.BigMul(h1, s1, out ulong tLo);
                d0Lo += tLo;
                d0Hi += tHi + (d0Lo < tLo ? 1UL : 0UL);

                ulong d1Hi = Math.BigMul(h0, r1, out ulong d1Lo);
                tHi = Math.BigMul(h1, r0, out tLo);
                d1Lo += tLo;
                d1Hi += tHi + (d1Lo < tLo ? 1UL : 0UL);
                tLo = h2 * s1;
                d1Lo += tLo;
                d1Hi += d1Lo < tLo ? 1UL : 0UL;
                d1Lo += d0Hi;
                d1Hi += d1Lo < d0Hi ? 1UL : 0UL;

                ulong d2 = h2 * r0 + d1Hi;
                h0 = d0Lo;
                h1 = d1Lo;

                // Fold everything at or above 2^130 back in times 5.
                ulong fold = (d2 >> 2) + (d2 & ~3UL);
                h2 = d2 & 3;
                h0 += fold;
                carry = h0 < fold ? 1UL : 0UL;
                h1 += carry;
                h2 += h1 < carry ? 1UL : 0UL;
            }
            _h0 = h0;
            _h1 = h1;
            _h2 = h2;
        }

        /// <summary>
        /// What <see cref="Blocks"/> does with the 2^128 bit set, for a multiple of 64 bytes, four blocks at a time
        /// with AVX2. Over n blocks, block i (from 1) contributes m_i r^(n - i + 1) to h. Four accumulators, one
        /// per lane, each take every fourth block by Horner's rule with r^4 (acc = acc * r^4 + m), so the one that
        /// took blocks j, j + 4, ... (j = 1..4) holds the sum of m_i r^(n - i + j - 4); multiplying it by r^(5 - j)
        /// and adding the four gives exactly what the scalar loop computes, modulo p.
        /// h and the powers of r are kept in radix 2^26 (five limbs), so that every partial product is one vpmuludq
        /// (32 x 32 -> 64 bits) and five of them add up in a 64-bit lane without overflowing.
        /// </summary>
        public void BlocksAvx2(ReadOnlySpan<byte> data)
        {
            if (!Avx2.IsSupported || data.Length == 0 || data.Length % GroupSize != 0)
                throw new ArgumentException("AVX2 hashing needs AVX2 and a positive multiple of 64 bytes", nameof(data));

            // r^2, r^3 and r^4 from the scalar code: feeding a zero block without the 2^128 bit turns h = r^k into
            // r^(k+1). They come out partially reduced; reduced below p they fit five limbs of 26 bits exactly.
            State power = this;
            power._h0 = _r0;
            power._h1 = _r1;
            power._h2 = 0;
            Limbs r1 = power.ReducedLimbs();
            power.Blocks(ZeroBlock, 0);
            Limbs r2 = power.ReducedLimbs();
            power.Blocks(ZeroBlock, 0);
            Limbs r3 = power.ReducedLimbs();
            power.Blocks(ZeroBlock, 0);
            Limbs r4 = power.ReducedLimbs();
            Limbs h = Limbs.From(_h0, _h1, _h2);

            Vector256<ulong> w0 = Vector256.Create(r4.L0), w1 = Vector256.Create(r4.L1), w2 = Vector256.Create(r4.L2),
                w3 = Vector256.Create(r4.L3), w4 = Vector256.Create(r4.L4);
            Vector256<ulong> v1 = Vector256.Create(5 * r4.L1), v2 = Vector256.Create(5 * r4.L2),
                v3 = Vector256.Create(5 * r4.L3), v4 = Vector256.Create(5 * r4.L4);

            ref byte start = ref MemoryMarshal.GetReference(data);
            nuint length = (nuint)data.Length;

            // The lanes hold blocks 0, 2, 1, 3 of each group of four (the order the unpacks in LoadGroup leave them
            // in). The scalar h so far is added to block 0, the first of the data, as Blocks would add it; its limbs
            // are below 2^26 but for the top one, below 5 * 2^24 (h2 <= 4), so with a message limb (below 2^26, the
            // top one below 2^25) every limb stays below the 2^27 + 2^9 that MultiplyCarry allows.
            LoadGroup(ref start, 0, out var h0, out var h1, out var h2, out var h3, out var h4);
            h0 += Vector256.CreateScalar(h.L0);
            h1 += Vector256.CreateScalar(h.L1);
            h2 += Vector256.CreateScalar(h.L2);
            h3 += Vector256.CreateScalar(h.L3);
            h4 += Vector256.CreateScalar(h.L4);

            for (nuint at = GroupSize; at < length; at += GroupSize)
            {
                MultiplyCarry(ref h0, ref h1, ref h2, ref h3, ref h4, w0, w1, w2, w3, w4, v1, v2, v3, v4);
                LoadGroup(ref start, at, out var m0, out var m1, out var m2, out var m3, out var m4);
                h0 += m0;
                h1 += m1;
                h2 += m2;
                h3 += m3;
                h4 += m4;
            }

            // Lanes holding blocks 0, 2, 1, 3 of each group are owed r^4, r^2, r^3, r^1. These powers are reduced
            // below p, or r itself (below 2^124), so their limbs are below 2^26 as MultiplyCarry needs.
            w0 = Vector256.Create(r4.L0, r2.L0, r3.L0, r1.L0);
            w1 = Vector256.Create(r4.L1, r2.L1, r3.L1, r1.L1);
            w2 = Vector256.Create(r4.L2, r2.L2, r3.L2, r1.L2);
            w3 = Vector256.Create(r4.L3, r2.L3, r3.L3, r1.L3);
            w4 = Vector256.Create(r4.L4, r2.L4, r3.L4, r1.L4);
            v1 = w1 + Avx2.ShiftLeftLogical(w1, 2);
            v2 = w2 + Avx2.ShiftLeftLogical(w2, 2);
            v3 = w3 + Avx2.ShiftLeftLogical(w3, 2);
            v4 = w4 + Avx2.ShiftLeftLogical(w4, 2);
            MultiplyCarry(ref h0, ref h1, ref h2, ref h3, ref h4, w0, w1, w2, w3, w4, v1, v2, v3, v4);

            // Each lane's limbs are below 2^26 + 2^9, so their sums are below 2^28.1. Carrying up leaves l4 below
            // 2^28.1 + 4; folding its top into l0 leaves l0 below 2^26 + 25 and the rest below 2^26; carrying up once
            // more makes l0..l3 exact 26-bit fields and l4 at most 2^26, so h2 is at most 4, as Blocks leaves it.
            ulong l0 = Vector256.Sum(h0), l1 = Vector256.Sum(h1), l2 = Vector256.Sum(h2), l3 = Vector256.Sum(h3),
                l4 = Vector256.Sum(h4);
            CarryUp(ref l0, ref l1, ref l2, ref l3, ref l4);
            l0 += 5 * (l4 >> 26);
            l4 &= LimbMask;
            CarryUp(ref l0, ref l1, ref l2, ref l3, ref l4);
            _h0 = l0 | (l1 << 26) | (l2 << 52);
            _h1 = (l2 >> 12) | (l3 << 14) | (l4 << 40);
            _h2 = l4 >> 24;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void CarryUp(ref ulong l0, ref ulong l1, ref ulong l2, ref ulong l3, ref ulong l4)
        {
            l1 += l0 >> 26;
            l0 &= LimbMask;
            l2 += l1 >> 26;
            l1 &= LimbMask;
            l3 += l2 >> 26;
            l2 &= LimbMask;
            l4 += l3 >> 26;
            l3 &= LimbMask;
        }

        private static ReadOnlySpan<byte> ZeroBlock => [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

        /// <summary>
        /// Four 16-byte blocks as five vectors of 26-bit limbs, with the 2^128 bit (bit 24 of limb 4) set.
        /// Unpacking the low and high halves works within each 128-bit lane, so the blocks come out as 0, 2, 1, 3.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void LoadGroup(ref byte start, nuint at, out Vector256<ulong> m0, out Vector256<ulong> m1,
            out Vector256<ulong> m2, out Vector256<ulong> m3, out Vector256<ulong> m4)
        {
            Vector256<ulong> a = Vector256.LoadUnsafe(ref start, at).AsUInt64();
            Vector256<ulong> b = Vector256.LoadUnsafe(ref start, at + 32).AsUInt64();
            Vector256<ulong> lo = Avx2.UnpackLow(a, b);
            Vector256<ulong> hi = Avx2.UnpackHigh(a, b);
            Vector256<ulong> mask = Vector256.Create(LimbMask);
            m0 = lo & mask;
            m1 = Avx2.ShiftRightLogical(lo, 26) & mask;
            m2 = (Avx2.ShiftRightLogical(lo, 52) | Avx2.ShiftLeftLogical(hi, 12)) & mask;
            m3 = Avx2.ShiftRightLogical(hi, 14) & mask;
            m4 = Avx2.ShiftRightLogical(hi, 40) | Vector256.Create(1UL << 24);
        }

        /// <summary>
        /// h = h * w mod 2^130 - 5 per lane, with v = 5 w (2^130 ≡ 5, so a product landing at limb 5 + k is added
        /// to limb k times 5), then carried so that the next round's inputs are small enough again.
        /// <para>
        /// Bounds: on entry h's limbs are below 2^27 + 2^9 (a carried limb below 2^26 + 2^9, see below, plus a
        /// message limb below 2^26), w's below 2^26 (reduced powers of r), v's below 5 * 2^26, so every vpmuludq
        /// operand fits its 32 bits and each d, a sum of five products below (2^27 + 2^9) * 5 * 2^26, is below
        /// 2^58. Carrying d3 -> d4 and d0 -> d1, then d4 -> d0 (times 5) and d1 -> d2, then d0 -> d1 and d2 -> d3,
        /// then d3 -> d4: the carries out of the full d's are below 2^32, so d0 becomes less than 2^26 + 5 * 2^32,
        /// whose carry is at most 321; d3 becomes less than 2^26 + 2^32 + 1, whose carry is at most 65. That leaves
        /// limbs 0, 2, 3 below 2^26, limb 1 below 2^26 + 322 and limb 4 below 2^26 + 65: below 2^26 + 2^9.
        /// Two interleaved carry chains rather than one shorten the loop's dependency chain.
        /// </para>
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void MultiplyCarry(ref Vector256<ulong> h0, ref Vector256<ulong> h1, ref Vector256<ulong> h2,
            ref Vector256<ulong> h3, ref Vector256<ulong> h4,
            Vector256<ulong> w0, Vector256<ulong> w1, Vector256<ulong> w2, Vector256<ulong> w3, Vector256<ulong> w4,
            Vector256<ulong> v1, Vector256<ulong> v2, Vector256<ulong> v3, Vector256<ulong> v4)
        {
            Vector256<uint> a0 = h0.AsUInt32(), a1 = h1.AsUInt32(), a2 = h2.AsUInt32(), a3 = h3.AsUInt32(),
                a4 = h4.AsUInt32();
            // Summed as a tree rather than a chain: the loop is bound by the latency from h to the next h.
            Vector256<ulong> d0 = (Avx2.Multiply(a0, w0.AsUInt32()) + Avx2.Multiply(a1, v4.AsUInt32()))
                + (Avx2.Multiply(a2, v3.AsUInt32()) + Avx2.Multiply(a3, v2.AsUInt32())) + Avx2.Multiply(a4, v1.AsUInt32());
            Vector256<ulong> d1 = (Avx2.Multiply(a0, w1.AsUInt32()) + Avx2.Multiply(a1, w0.AsUInt32()))
                + (Avx2.Multiply(a2, v4.AsUInt32()) + Avx2.Multiply(a3, v3.AsUInt32())) + Avx2.Multiply(a4, v2.AsUInt32());
            Vector256<ulong> d2 = (Avx2.Multiply(a0, w2.AsUInt32()) + Avx2.Multiply(a1, w1.AsUInt32()))
                + (Avx2.Multiply(a2, w0.AsUInt32()) + Avx2.Multiply(a3, v4.AsUInt32())) + Avx2.Multiply(a4, v3.AsUInt32());
            Vector256<ulong> d3 = (Avx2.Multiply(a0, w3.AsUInt32()) + Avx2.Multiply(a1, w2.AsUInt32()))
                + (Avx2.Multiply(a2, w1.AsUInt32()) + Avx2.Multiply(a3, w0.AsUInt32())) + Avx2.Multiply(a4, v4.AsUInt32());
            Vector256<ulong> d4 = (Avx2.Multiply(a0, w4.AsUInt32()) + Avx2.Multiply(a1, w3.AsUInt32()))
                + (Avx2.Multiply(a2, w2.AsUInt32()) + Avx2.Multiply(a3, w1.AsUInt32())) + Avx2.Multiply(a4, w0.AsUInt32());

            Vector256<ulong> mask = Vector256.Create(LimbMask);
            Vector256<ulong> c;
            c = Avx2.ShiftRightLogical(d3, 26);
            d3 &= mask;
            d4 += c;
            c = Avx2.ShiftRightLogical(d0, 26);
            d0 &= mask;
            d1 += c;

            c = Avx2.ShiftRightLogical(d4, 26);
            d4 &= mask;
            d0 += c + Avx2.ShiftLeftLogical(c, 2);
            c = Avx2.ShiftRightLogical(d1, 26);
            d1 &= mask;
            d2 += c;

            c = Avx2.ShiftRightLogical(d0, 26);
            d0 &= mask;
            d1 += c;
            c = Avx2.ShiftRightLogical(d2, 26);
            d2 &= mask;
            d3 += c;

            c = Avx2.ShiftRightLogical(d3, 26);
            d3 &= mask;
            d4 += c;

            h0 = d0;
            h1 = d1;
            h2 = d2;
            h3 = d3;
            h4 = d4;
        }

        /// <summary>h reduced below p (see <see cref="Finish"/>) as five 26-bit limbs.</summary>
        private readonly Limbs ReducedLimbs()
        {
            Reduce(_h0, _h1, _h2, out ulong h0, out ulong h1, out ulong h2);
            return Limbs.From(h0, h1, h2);
        }

        /// <summary>
        /// h mod p for a partially reduced h: h &lt; 5 * 2^128 &lt; 2p, so one conditional subtraction of p
        /// completes the reduction: h - p = h + 5 - 2^130. Selected by mask, without branching on secret values.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Reduce(ulong h0, ulong h1, ulong h2, out ulong f0, out ulong f1, out ulong f2)
        {
            ulong g0 = h0 + 5;
            ulong carry = g0 < 5 ? 1UL : 0UL;
            ulong g1 = h1 + carry;
            carry = g1 < carry ? 1UL : 0UL;
            ulong g2 = h2 + carry;
            ulong useG = 0UL - (g2 >> 2);
            f0 = (h0 & ~useG) | (g0 & useG);
            f1 = (h1 & ~useG) | (g1 & useG);
            f2 = (h2 & ~useG) | (g2 & 3 & useG);
        }

        /// <summary>tag = ((h mod 2^130 - 5) + s) mod 2^128.</summary>
        public readonly void Finish(ReadOnlySpan<byte> s, Span<byte> tag)
        {
            Reduce(_h0, _h1, _h2, out ulong h0, out ulong h1, out _);
            ulong s0 = BinaryPrimitives.ReadUInt64LittleEndian(s);
            ulong s1 = BinaryPrimitives.ReadUInt64LittleEndian(s[8..]);
            h0 += s0;
            h1 += s1 + (h0 < s0 ? 1UL : 0UL);
            BinaryPrimitives.WriteUInt64LittleEndian(tag, h0);
            BinaryPrimitives.WriteUInt64LittleEndian(tag[8..], h1);
        }
    }

    /// <summary>A number below 2^131 as five limbs of 26 bits, the last one taking the rest.</summary>
    private readonly record struct Limbs(ulong L0, ulong L1, ulong L2, ulong L3, ulong L4)
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Limbs From(ulong h0, ulong h1, ulong h2) => new(
            h0 & LimbMask,
            (h0 >> 26) & LimbMask,
            ((h0 >> 52) | (h1 << 12)) & LimbMask,
            (h1 >> 14) & LimbMask,
            (h1 >> 40) | (h2 << 24));
    }
}
