using System.Buffers.Binary;
using System.Security.Cryptography;
using Backups.Core.Crypto;
using Xunit;

namespace Backups.Tests.Crypto;

public class AesCtrTests
{
    /// <summary>Both implementations: AES-NI where the machine has it, and the portable ECB-based one.</summary>
    public static TheoryData<bool> Paths => System.Runtime.Intrinsics.X86.Aes.IsSupported ? new() { true, false } : new() { false };

    /// <summary>CTR built by hand: encrypt successive big-endian counter blocks with .NET's AES-ECB and XOR.</summary>
    private static byte[] ReferenceCtr(byte[] key, byte[] iv, byte[] input)
    {
        int blocks = (input.Length + 15) / 16;
        var counters = new byte[blocks * 16];
        UInt128 counter = BinaryPrimitives.ReadUInt128BigEndian(iv);
        for (int i = 0; i < blocks; i++)
            BinaryPrimitives.WriteUInt128BigEndian(counters.AsSpan(i * 16), counter++);
        using var aes = Aes.Create();
        aes.Key = key;
        var stream = aes.EncryptEcb(counters, PaddingMode.None);
        var output = new byte[input.Length];
        for (int i = 0; i < input.Length; i++)
            output[i] = (byte)(input[i] ^ stream[i]);
        return output;
    }

    private static byte[] Transform(bool aesNi, byte[] key, byte[] iv, byte[] input)
    {
        var output = new byte[input.Length];
        new AesCtr(key, aesNi).Transform(iv, input, output);
        return output;
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void NistSp800_38A_F55_Ctr256Encrypt(bool aesNi)
    {
        var key = Convert.FromHexString("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
        var iv = Convert.FromHexString("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
        var plaintext = Convert.FromHexString(
            "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
        Assert.Equal(
            "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c52b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6",
            Convert.ToHexString(Transform(aesNi, key, iv, plaintext)).ToLowerInvariant());
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Counter_carries_across_the_64_bit_boundary_and_wraps_at_2_to_128(bool aesNi)
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var input = RandomNumberGenerator.GetBytes(16 * 20 + 5);
        foreach (var iv in new[]
                 {
                     Convert.FromHexString("0011223344556677fffffffffffffffa"),
                     Convert.FromHexString("00112233445566fffffffffffffffffd"),
                     Convert.FromHexString("fffffffffffffffffffffffffffffff9"),
                 })
        {
            Assert.Equal(ReferenceCtr(key, iv, input), Transform(aesNi, key, iv, input));
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Matches_reference_for_many_lengths_and_both_key_sizes(bool aesNi)
    {
        var random = new Random(128);
        foreach (int keyLength in new[] { 16, 32 })
        {
            var key = new byte[keyLength];
            random.NextBytes(key);
            foreach (int length in new[] { 0, 1, 15, 16, 17, 127, 128, 129, 255, 256, 1000, 4095, 4096, 4097, 10_000 })
            {
                var iv = new byte[16];
                var input = new byte[length];
                random.NextBytes(iv);
                random.NextBytes(input);
                Assert.Equal(ReferenceCtr(key, iv, input), Transform(aesNi, key, iv, input));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void In_place_equals_out_of_place_and_decrypts_back(bool aesNi)
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var iv = RandomNumberGenerator.GetBytes(16);
        var plaintext = RandomNumberGenerator.GetBytes(5000);
        var ctr = new AesCtr(key, aesNi);
        var expected = new byte[plaintext.Length];
        ctr.Transform(iv, plaintext, expected);

        var buffer = (byte[])plaintext.Clone();
        ctr.Transform(iv, buffer, buffer);
        Assert.Equal(expected, buffer);
        ctr.Transform(iv, buffer, buffer);
        Assert.Equal(plaintext, buffer);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Encrypt_block_is_aes_ecb(bool aesNi)
    {
        foreach (int keyLength in new[] { 16, 32 })
        {
            var key = RandomNumberGenerator.GetBytes(keyLength);
            var block = RandomNumberGenerator.GetBytes(16);
            using var aes = Aes.Create();
            aes.Key = key;
            var output = new byte[16];
            new AesCtr(key, aesNi).EncryptBlock(block, output);
            Assert.Equal(aes.EncryptEcb(block, PaddingMode.None), output);
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Is_safe_to_share_between_threads(bool aesNi)
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var ctr = new AesCtr(key, aesNi);
        var inputs = Enumerable.Range(0, 64).Select(i => RandomNumberGenerator.GetBytes(20_000 + i)).ToArray();
        var ivs = Enumerable.Range(0, 64).Select(_ => RandomNumberGenerator.GetBytes(16)).ToArray();
        var outputs = new byte[64][];
        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            outputs[i] = new byte[inputs[i].Length];
            for (int repeat = 0; repeat < 5; repeat++)
                ctr.Transform(ivs[i], inputs[i], outputs[i]);
        });
        for (int i = 0; i < 64; i++)
            Assert.Equal(ReferenceCtr(key, ivs[i], inputs[i]), outputs[i]);
    }

    [Fact]
    public void Rejects_bad_arguments()
    {
        Assert.Throws<ArgumentException>(() => new AesCtr(new byte[24]));
        var ctr = new AesCtr(new byte[32]);
        Assert.Throws<ArgumentException>(() => ctr.Transform(new byte[15], new byte[4], new byte[4]));
        Assert.Throws<ArgumentException>(() => ctr.Transform(new byte[16], new byte[4], new byte[3]));
        var buffer = new byte[40];
        Assert.Throws<ArgumentException>(() => ctr.Transform(new byte[16], buffer.AsSpan(0, 32), buffer.AsSpan(1, 32)));
    }
}
