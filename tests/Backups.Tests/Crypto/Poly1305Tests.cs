using System.Numerics;
using System.Runtime.Intrinsics.X86;
using Backups.Core.Crypto;
using Xunit;

namespace Backups.Tests.Crypto;

public class Poly1305Tests
{
    private static byte[] Tag(ReadOnlySpan<byte> r, ReadOnlySpan<byte> s, ReadOnlySpan<byte> message)
    {
        var tag = new byte[16];
        Poly1305.ComputeTag(r, s, message, tag);
        return tag;
    }

    private const int ScalarOnly = int.MaxValue;
    private const int VectorFromZero = 0;

    /// <summary>
    /// The tag through the path that <paramref name="vectorMinimum"/> pins, checking that the AVX2 path took
    /// every whole 64-byte group when it was asked for on a machine that has AVX2, and nothing otherwise.
    /// </summary>
    private static byte[] PinnedTag(byte[] r, byte[] s, byte[] message, int vectorMinimum)
    {
        var tag = new byte[16];
        int vectorized = Poly1305.ComputeTag(r, s, message, tag, vectorMinimum);
        bool vector = Avx2.IsSupported && message.Length >= vectorMinimum;
        Assert.Equal(vector ? message.Length & ~63 : 0, vectorized);
        return tag;
    }

    private static void AssertBothPathsMatchReference(byte[] r, byte[] s, byte[] message)
    {
        string expected = Convert.ToHexString(ReferenceTag(r, s, message));
        Assert.Equal(expected, Convert.ToHexString(PinnedTag(r, s, message, ScalarOnly)));
        Assert.Equal(expected, Convert.ToHexString(PinnedTag(r, s, message, VectorFromZero)));
        Assert.Equal(expected, Convert.ToHexString(Tag(r, s, message)));
    }

    /// <summary>r with every bit that clamping keeps set: the largest limbs the multiplications can see.</summary>
    private static byte[] LargestR() => Enumerable.Repeat((byte)0xff, 16).ToArray();

    /// <summary>Poly1305 straight from its definition, with big integers.</summary>
    private static byte[] ReferenceTag(byte[] r, byte[] s, byte[] message)
    {
        BigInteger p = (BigInteger.One << 130) - 5;
        var clamped = (byte[])r.Clone();
        foreach (int i in new[] { 3, 7, 11, 15 }) clamped[i] &= 15;
        foreach (int i in new[] { 4, 8, 12 }) clamped[i] &= 252;
        var rn = new BigInteger(clamped, isUnsigned: true);
        BigInteger h = 0;
        for (int at = 0; at < message.Length; at += 16)
        {
            int n = Math.Min(16, message.Length - at);
            var block = new byte[n + 1];
            message.AsSpan(at, n).CopyTo(block);
            block[n] = 1;
            h = (h + new BigInteger(block, isUnsigned: true)) * rn % p;
        }
        h = (h + new BigInteger(s, isUnsigned: true)) & ((BigInteger.One << 128) - 1);
        var tag = new byte[16];
        h.TryWriteBytes(tag, out _, isUnsigned: true);
        return tag;
    }

    [Fact]
    public void Rfc8439_section_252_vector()
    {
        var r = Convert.FromHexString("85d6be7857556d337f4452fe42d506a8");
        var s = Convert.FromHexString("0103808afb0db2fd4abff6af4149f51b");
        var tag = Tag(r, s, "Cryptographic Forum Research Group"u8);
        Assert.Equal("a8061dc1305136c6c22b8baf0c0127a9", Convert.ToHexString(tag).ToLowerInvariant());
    }

    // RFC 8439 appendix A.3 vectors that exercise carries and the final reduction: (r, s, message, tag).
    public static TheoryData<string, string, string, string> EdgeCases => new()
    {
        { "02000000000000000000000000000000", "00000000000000000000000000000000",
          "ffffffffffffffffffffffffffffffff", "03000000000000000000000000000000" },
        { "02000000000000000000000000000000", "ffffffffffffffffffffffffffffffff",
          "02000000000000000000000000000000", "03000000000000000000000000000000" },
        { "01000000000000000000000000000000", "00000000000000000000000000000000",
          "ffffffffffffffffffffffffffffffff" + "f0ffffffffffffffffffffffffffffff" + "11000000000000000000000000000000",
          "05000000000000000000000000000000" },
        { "01000000000000000000000000000000", "00000000000000000000000000000000",
          "ffffffffffffffffffffffffffffffff" + "fbfefefefefefefefefefefefefefefe" + "01010101010101010101010101010101",
          "00000000000000000000000000000000" },
        { "02000000000000000000000000000000", "00000000000000000000000000000000",
          "fdffffffffffffffffffffffffffffff", "faffffffffffffffffffffffffffffff" },
        { "01000000000000000400000000000000", "00000000000000000000000000000000",
          "e33594d7505e43b900000000000000003394d7505e4379cd01000000000000000000000000000000000000000000000001000000000000000000000000000000",
          "14000000000000005500000000000000" },
        { "01000000000000000400000000000000", "00000000000000000000000000000000",
          "e33594d7505e43b900000000000000003394d7505e4379cd010000000000000000000000000000000000000000000000",
          "13000000000000000000000000000000" },
    };

    [Theory]
    [MemberData(nameof(EdgeCases))]
    public void Rfc8439_edge_case_vectors(string r, string s, string message, string expected)
    {
        var tag = Tag(Convert.FromHexString(r), Convert.FromHexString(s), Convert.FromHexString(message));
        Assert.Equal(expected, Convert.ToHexString(tag).ToLowerInvariant());
    }

    // D. J. Bernstein, "The Poly1305-AES message-authentication code" (2005), appendix B: (r, k, nonce, message, tag).
    // These go through AES-128 to get s, as restic's MAC does.
    public static TheoryData<string, string, string, string, string> Poly1305AesVectors => new()
    {
        { "851fc40c3467ac0be05cc20404f3f700", "ec074c835580741701425b623235add6", "fb447350c4e868c52ac3275cf9d4327e",
          "f3f6", "f4c633c3044fc145f84f335cb81953de" },
        { "a0f3080000f46400d0c7e9076c834403", "75deaa25c09f208e1dc4ce6b5cad3fbf", "61ee09218d29b0aaed7e154a2c5509cc",
          "", "dd3fab2251f11ac759f0887129cc2ee7" },
        { "48443d0bb0d21109c89a100b5ce2c208", "6acb5f61a7176dd320c5c1eb2edcdc74", "ae212a55399729595dea458bc621ff0e",
          "663cea190ffb83d89593f3f476b6bc24d7e679107ea26adb8caf6652d0656136", "0ee1c16bb73f0f4fd19881753c01cdbe" },
        { "12976a08c4426d0ce8a82407c4f48207", "e1a5668a4d5b66a5f68cc5424ed5982d", "9ae831e743978d3a23527c7128149e3a",
          "ab0812724a7f1e342742cbed374d94d136c6b8795d45b3819830f2c04491faf0990c62e48b8018b2c3e4a0fa3134cb67fa83e158c994d961c4cb21095c1bf9",
          "5154ad0d2cb26e01274fc51148491f1b" },
    };

    [Theory]
    [MemberData(nameof(Poly1305AesVectors))]
    public void Bernstein_Poly1305_aes_vectors(string r, string k, string nonce, string message, string expected)
    {
        var s = new byte[16];
        new AesCtr(Convert.FromHexString(k)).EncryptBlock(Convert.FromHexString(nonce), s);
        var tag = Tag(Convert.FromHexString(r), s, Convert.FromHexString(message));
        Assert.Equal(expected, Convert.ToHexString(tag).ToLowerInvariant());
    }

    [Fact]
    public void Matches_big_integer_reference_on_random_and_extreme_inputs()
    {
        var random = new Random(1305);
        for (int length = 0; length <= 200; length++)
        {
            foreach (byte fill in new byte[] { 0x00, 0xff, 0x42 })
            {
                var r = new byte[16];
                var s = new byte[16];
                var message = new byte[length];
                if (fill == 0x42)
                {
                    random.NextBytes(r);
                    random.NextBytes(s);
                    random.NextBytes(message);
                }
                else
                {
                    Array.Fill(r, (byte)0xff);
                    Array.Fill(s, fill);
                    Array.Fill(message, (byte)0xff);
                }
                Assert.Equal(ReferenceTag(r, s, message), Tag(r, s, message));
            }
        }
    }

    [Fact]
    public void Matches_reference_on_a_long_message()
    {
        var random = new Random(7);
        var message = new byte[100_003];
        var (r, s) = RandomKey(random);
        random.NextBytes(message);
        Assert.Equal(ReferenceTag(r, s, message), Tag(r, s, message));
    }

    [Fact]
    public void Vector_path_is_taken_on_long_messages_when_Avx2_is_supported()
    {
        var message = new byte[1 << 20];
        var tag = new byte[16];
        var key = new byte[16];
        int vectorized = Poly1305.ComputeTag(key, key, message, tag, Poly1305.VectorMinimum);
        Assert.Equal(Avx2.IsSupported ? message.Length : 0, vectorized);
        Assert.Equal(0, Poly1305.ComputeTag(key, key, message, tag, ScalarOnly));
        Assert.Equal(0, Poly1305.ComputeTag(key, key, new byte[Poly1305.VectorMinimum - 1], tag, Poly1305.VectorMinimum));
    }

    [Fact]
    public void Both_paths_match_reference_at_every_length_up_to_1100()
    {
        var random = new Random(2605);
        for (int length = 0; length <= 1100; length++)
        {
            var message = new byte[length];
            random.NextBytes(message);
            var (r, s) = RandomKey(random);
            AssertBothPathsMatchReference(r, s, message);
            // The largest clamped r and an all-ones s, which carries through the final addition.
            AssertBothPathsMatchReference(LargestR(), Enumerable.Repeat((byte)0xff, 16).ToArray(), message);
        }
    }

    [Fact]
    public void Both_paths_match_reference_on_all_ones_messages()
    {
        // All-ones blocks under the largest r keep every limb of the accumulator near its bound.
        var random = new Random(5);
        for (int length = 0; length <= 1100; length += 7)
        {
            var message = Enumerable.Repeat((byte)0xff, length).ToArray();
            var s = new byte[16];
            random.NextBytes(s);
            AssertBothPathsMatchReference(LargestR(), s, message);
            var r = new byte[16];
            random.NextBytes(r);
            AssertBothPathsMatchReference(r, s, message);
        }
        foreach (int length in new[] { 4096, 4096 + 63, 65536 + 17, 262144 + 5 })
            AssertBothPathsMatchReference(LargestR(), LargestR(), Enumerable.Repeat((byte)0xff, length).ToArray());
    }

    [Fact]
    public void Both_paths_match_reference_on_long_messages()
    {
        var random = new Random(64);
        var lengths = new List<int> { (1 << 20) + 5 };
        for (int delta = 1; delta <= 17; delta++)
        {
            lengths.Add(65536 + delta);
            lengths.Add(65536 - delta);
        }
        foreach (int length in lengths)
        {
            var message = new byte[length];
            random.NextBytes(message);
            var (r, s) = RandomKey(random);
            AssertBothPathsMatchReference(r, s, message);
        }
    }

    private static (byte[] R, byte[] S) RandomKey(Random random)
    {
        var r = new byte[16];
        var s = new byte[16];
        random.NextBytes(r);
        random.NextBytes(s);
        return (r, s);
    }
}
