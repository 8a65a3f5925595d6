using System.Buffers.Binary;

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
    /// Computes the tag of <paramref name="message"/> under the one-time key <c>(r, s)</c>;
    /// <paramref name="r"/> is clamped here, so it may be passed raw.
    /// </summary>
    public static void ComputeTag(ReadOnlySpan<byte> r, ReadOnlySpan<byte> s, ReadOnlySpan<byte> message, Span<byte> tag)
    {
        if (r.Length != KeyPartSize || s.Length != KeyPartSize)
            throw new ArgumentException($"r and s must be {KeyPartSize} bytes each");
        if (tag.Length < TagSize)
            throw new ArgumentException($"the tag needs {TagSize} bytes", nameof(tag));

        var state = new State(r);
        int whole = message.Length & ~(TagSize - 1);
        state.Blocks(message[..whole], 1);
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

        /// <summary>tag = ((h mod 2^130 - 5) + s) mod 2^128, without branching on secret values.</summary>
        public readonly void Finish(ReadOnlySpan<byte> s, Span<byte> tag)
        {
            // h < 5 * 2^128 < 2p, so one conditional subtraction of p completes the reduction: h - p = h + 5 - 2^130.
            ulong g0 = _h0 + 5;
            ulong carry = g0 < 5 ? 1UL : 0UL;
            ulong g1 = _h1 + carry;
            carry = g1 < carry ? 1UL : 0UL;
            ulong g2 = _h2 + carry;
            ulong useG = 0UL - (g2 >> 2);
            ulong h0 = (_h0 & ~useG) | (g0 & useG);
            ulong h1 = (_h1 & ~useG) | (g1 & useG);

            ulong s0 = BinaryPrimitives.ReadUInt64LittleEndian(s);
            ulong s1 = BinaryPrimitives.ReadUInt64LittleEndian(s[8..]);
            h0 += s0;
            h1 += s1 + (h0 < s0 ? 1UL : 0UL);
            BinaryPrimitives.WriteUInt64LittleEndian(tag, h0);
            BinaryPrimitives.WriteUInt64LittleEndian(tag[8..], h1);
        }
    }
}
