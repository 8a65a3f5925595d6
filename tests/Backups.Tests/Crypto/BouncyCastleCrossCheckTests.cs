using Backups.Core.Crypto;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Modes;
using Org.BouncyCastle.Crypto.Parameters;
using Xunit;
using BcPoly1305 = Org.BouncyCastle.Crypto.Macs.Poly1305;

namespace Backups.Tests.Crypto;

/// <summary>
/// Our AES-CTR, Poly1305 and scrypt are written for speed; BouncyCastle's are an independent implementation. Both must
/// agree on random keys, counters, parameters and messages of every awkward length (seeded, so a failure repeats).
/// </summary>
public class BouncyCastleCrossCheckTests
{
    private const int Rounds = 300, MaxLength = 5000;

    public static TheoryData<bool> AesPaths => System.Runtime.Intrinsics.X86.Aes.IsSupported ? new() { true, false } : new() { false };

    /// <summary>Poly1305 from the first byte on the AVX2 code (where the CPU has it), or all on the scalar code.</summary>
    public static TheoryData<int> PolyPaths => new() { 0, int.MaxValue };

    [Theory]
    [MemberData(nameof(AesPaths))]
    public void Aes_ctr_matches_BouncyCastle(bool aesNi)
    {
        var random = new Random(20261202);
        for (var round = 0; round < Rounds; round++)
        {
            var key = Bytes(random, random.Next(2) == 0 ? 16 : 32);
            var iv = Bytes(random, AesCtr.BlockSize);
            // Counters about to carry out of the low 64 bits, or to wrap at 2^128, now and then.
            if (round % 7 == 0) iv.AsSpan(8).Fill(0xff);
            if (round % 11 == 0) iv.AsSpan().Fill(0xff);
            var message = Bytes(random, Length(random, round));

            var ours = new byte[message.Length];
            new AesCtr(key, aesNi).Transform(iv, message, ours);

            var ctr = new SicBlockCipher(new AesEngine());
            ctr.Init(true, new ParametersWithIV(new KeyParameter(key), iv));
            var theirs = new byte[message.Length];
            for (var at = 0; at < message.Length; at += AesCtr.BlockSize)
            {
                var block = new byte[AesCtr.BlockSize];
                var n = Math.Min(AesCtr.BlockSize, message.Length - at);
                message.AsSpan(at, n).CopyTo(block);
                ctr.ProcessBlock(block, 0, block, 0);
                block.AsSpan(0, n).CopyTo(theirs.AsSpan(at));
            }
            Assert.True(theirs.AsSpan().SequenceEqual(ours), $"round {round}: {message.Length} bytes, key {key.Length} bytes, IV {Convert.ToHexString(iv)}");
        }
    }

    [Fact]
    public void Scrypt_matches_BouncyCastle()
    {
        var random = new Random(7914);
        for (var round = 0; round < 40; round++)
        {
            // Small N and r keep 40 rounds quick; p above the core count exercises lanes sharing a worker.
            int n = 2 << random.Next(11), r = 1 + random.Next(8), p = 1 + random.Next(5), length = 1 + random.Next(100);
            var password = Bytes(random, random.Next(40));
            var salt = Bytes(random, random.Next(40));
            var ours = Scrypt.DeriveKey(password, salt, n, r, p, length);
            var theirs = Org.BouncyCastle.Crypto.Generators.SCrypt.Generate(password, salt, n, r, p, length);
            Assert.True(theirs.AsSpan().SequenceEqual(ours), $"round {round}: N={n}, r={r}, p={p}, {length} bytes");
        }
    }

    [Theory]
    [MemberData(nameof(PolyPaths))]
    public void Poly1305_matches_BouncyCastle(int vectorMinimum)
    {
        var random = new Random(1305 + vectorMinimum % 7);
        for (var round = 0; round < Rounds; round++)
        {
            var r = Bytes(random, Poly1305.KeyPartSize);
            var s = Bytes(random, Poly1305.KeyPartSize);
            var message = Bytes(random, Length(random, round));
            // All-ones messages push every limb to its largest value.
            if (round % 13 == 0) message.AsSpan().Fill(0xff);

            var ours = new byte[Poly1305.TagSize];
            Poly1305.ComputeTag(r, s, message, ours, vectorMinimum);

            // BouncyCastle's plain Poly1305 takes r || s and clamps r itself, as ours does.
            var mac = new BcPoly1305();
            mac.Init(new KeyParameter([.. r, .. s]));
            mac.BlockUpdate(message, 0, message.Length);
            var theirs = new byte[Poly1305.TagSize];
            mac.DoFinal(theirs, 0);
            Assert.True(theirs.AsSpan().SequenceEqual(ours), $"round {round}: {message.Length} bytes");
        }
    }

    /// <summary>restic's sealed box, opened with BouncyCastle alone: AES-256-CTR, and Poly1305-AES with s = AES(mac.k, IV)
    /// (BouncyCastle takes its key as r || k and clamps r itself).</summary>
    [Fact]
    public void A_sealed_box_opens_with_BouncyCastle()
    {
        var random = new Random(32);
        for (var round = 0; round < 50; round++)
        {
            var key = new CryptoKey(Bytes(random, 32), Bytes(random, 16), Bytes(random, 16));
            var message = Bytes(random, Length(random, round));
            var box = new byte[message.Length + CryptoKey.Overhead];
            key.Seal(message, box);
            var iv = box.AsSpan(0, CryptoKey.IvSize).ToArray();
            var ciphertext = box.AsSpan(CryptoKey.IvSize, message.Length).ToArray();

            var mac = new BcPoly1305(new AesEngine());
            mac.Init(new ParametersWithIV(new KeyParameter([.. key.MacR, .. key.MacK]), iv));
            mac.BlockUpdate(ciphertext, 0, ciphertext.Length);
            var tag = new byte[CryptoKey.MacSize];
            mac.DoFinal(tag, 0);
            Assert.True(tag.AsSpan().SequenceEqual(box.AsSpan(box.Length - CryptoKey.MacSize)), $"round {round}: MAC differs");

            var ctr = new BufferedBlockCipher(new SicBlockCipher(new AesEngine()));
            ctr.Init(false, new ParametersWithIV(new KeyParameter(key.EncryptionKey.ToArray()), iv));
            var plain = new byte[ciphertext.Length];
            var n = ctr.ProcessBytes(ciphertext, 0, ciphertext.Length, plain, 0);
            ctr.DoFinal(plain, n);
            Assert.True(plain.AsSpan().SequenceEqual(message), $"round {round}: plaintext differs");
        }
    }

    /// <summary>Mostly short, odd and block-boundary lengths, now and then up to a few KiB; 0 comes first.</summary>
    private static int Length(Random random, int round) => round switch
    {
        0 => 0,
        _ when round % 5 == 0 => random.Next(MaxLength + 1),
        _ when round % 3 == 0 => 16 * random.Next(1, 80) + random.Next(-1, 2),
        _ => random.Next(300) | 1,
    };

    private static byte[] Bytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
