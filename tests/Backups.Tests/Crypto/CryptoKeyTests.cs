using System.Security.Cryptography;
using System.Text;
using Backups.Core.Crypto;
using Xunit;

namespace Backups.Tests.Crypto;

public class CryptoKeyTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(1024 * 1024 + 3)]
    public void Seal_then_open_round_trips(int size)
    {
        var key = CryptoKey.Random();
        var plaintext = RandomNumberGenerator.GetBytes(size);
        var box = key.Seal(plaintext);
        Assert.Equal(size + CryptoKey.Overhead, box.Length);
        Assert.True(box.AsSpan(0, CryptoKey.IvSize).ContainsAnyExcept((byte)0));
        Assert.Equal(plaintext, key.Open(box));

        var output = new byte[size + 5];
        Assert.True(key.TryOpen(box, output));
        Assert.Equal(plaintext, output[..size]);
    }

    [Fact]
    public void Every_seal_uses_a_fresh_iv()
    {
        var key = CryptoKey.Random();
        var a = key.Seal("same"u8);
        var b = key.Seal("same"u8);
        Assert.NotEqual(a[..CryptoKey.IvSize], b[..CryptoKey.IvSize]);
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void Tampering_with_any_byte_is_detected()
    {
        var key = CryptoKey.Random();
        var box = key.Seal(RandomNumberGenerator.GetBytes(40));
        var output = new byte[40];
        for (int i = 0; i < box.Length; i++)
        {
            foreach (byte flip in new byte[] { 0x01, 0x80, 0xff })
            {
                var bad = (byte[])box.Clone();
                bad[i] ^= flip;
                Assert.False(key.TryOpen(bad, output), $"byte {i} ^ {flip:x2} went unnoticed");
            }
        }
        Assert.All(output, b => Assert.Equal(0, b));
    }

    [Fact]
    public void Tampering_with_a_large_box_is_detected()
    {
        var key = CryptoKey.Random();
        var box = key.Seal(RandomNumberGenerator.GetBytes(1024 * 1024 + 3));
        var output = new byte[box.Length - CryptoKey.Overhead];
        foreach (int i in new[] { 0, 15, 16, 17, 500_000, box.Length - 17, box.Length - 16, box.Length - 1 })
        {
            box[i] ^= 0x04;
            Assert.False(key.TryOpen(box, output));
            box[i] ^= 0x04;
        }
        Assert.True(key.TryOpen(box, output));
    }

    [Fact]
    public void Wrong_key_fails_with_the_expected_message()
    {
        var box = CryptoKey.Random().Seal("secret"u8);
        var e = Assert.Throws<CryptoException>(() => CryptoKey.Random().Open(box));
        Assert.Equal("ciphertext verification failed (wrong password or damaged data)", e.Message);
    }

    [Fact]
    public void Short_or_zero_iv_boxes_are_rejected()
    {
        var key = CryptoKey.Random();
        Assert.False(key.TryOpen(new byte[CryptoKey.Overhead - 1], new byte[1]));
        Assert.False(key.TryOpen([], []));
        Assert.Throws<CryptoException>(() => key.Open(new byte[5]));
        Assert.False(key.TryOpen(new byte[CryptoKey.Overhead + 3], new byte[3]));
    }

    [Fact]
    public void Seals_and_opens_in_place()
    {
        var key = CryptoKey.Random();
        var plaintext = RandomNumberGenerator.GetBytes(1000);
        var buffer = new byte[plaintext.Length + CryptoKey.Overhead];
        plaintext.CopyTo(buffer, CryptoKey.IvSize);
        key.Seal(buffer.AsSpan(CryptoKey.IvSize, plaintext.Length), buffer);
        Assert.Equal(plaintext, key.Open(buffer));

        Assert.True(key.TryOpen(buffer, buffer.AsSpan(CryptoKey.IvSize, plaintext.Length)));
        Assert.Equal(plaintext, buffer[CryptoKey.IvSize..^CryptoKey.MacSize]);
    }

    [Fact]
    public void Refuses_other_overlaps_and_short_buffers()
    {
        var key = CryptoKey.Random();
        var buffer = new byte[100];
        Assert.Throws<ArgumentException>(() => key.Seal(buffer.AsSpan(0, 50), buffer));
        Assert.Throws<ArgumentException>(() => key.Seal(buffer.AsSpan(0, 10), buffer.AsSpan(0, 41)));
        Assert.Throws<ArgumentException>(() => key.Seal(new byte[10], new byte[41]));

        var box = key.Seal(new byte[50]);
        Assert.Throws<ArgumentException>(() => key.TryOpen(box, new byte[49]));
        Assert.Throws<ArgumentException>(() => key.TryOpen(box, box.AsSpan(0, 50)));
    }

    [Fact]
    public void Keys_are_checked_and_copied()
    {
        Assert.Throws<ArgumentException>(() => new CryptoKey(new byte[31], new byte[16], new byte[16]));
        Assert.Throws<ArgumentException>(() => new CryptoKey(Filled(32), Filled(15), Filled(16)));
        Assert.Throws<ArgumentException>(() => new CryptoKey(Filled(32), Filled(16), new byte[16]));
        Assert.Throws<ArgumentException>(() => new CryptoKey(new byte[32], Filled(16), Filled(16)));

        var encrypt = Filled(32);
        var key = new CryptoKey(encrypt, Filled(16), Filled(16));
        var box = key.Seal("x"u8);
        encrypt[0] ^= 1;
        Assert.Equal("x"u8.ToArray(), key.Open(box));
        Assert.Equal(Filled(32), key.EncryptionKey.ToArray());
    }

    private static byte[] Filled(int length) => Enumerable.Repeat((byte)7, length).ToArray();

    [Fact]
    public void Opens_restics_known_answer_box()
    {
        // restic's own test vector (internal/repository/crypto): a box sealed by restic under these keys.
        var key = new CryptoKey(
            Convert.FromHexString("303e8687b1d7db18421bdc6bb8588ccadac4d59ee87b8ff70c44e635790cafef"),
            Convert.FromHexString("ef4d8824cb80b2bcc5fbff8a9b12a42c"),
            Convert.FromHexString("cc8d4b948ee0ebfe1d415de921d10353"));
        var box = Convert.FromHexString(
            "69fb41c62d12def4593bd71757138606338f621aeaeb39da0fe4f99233f8037a54ea63338a813bcf3f75d8c3cc75dddf8750");
        Assert.Equal("Dies ist ein Test!", Encoding.UTF8.GetString(key.Open(box)));
    }

    [Fact]
    public void Is_safe_to_share_between_threads()
    {
        var key = CryptoKey.Random();
        var failures = 0;
        Parallel.For(0, 200, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var plaintext = RandomNumberGenerator.GetBytes(i * 331);
            if (!key.Open(key.Seal(plaintext)).AsSpan().SequenceEqual(plaintext))
                Interlocked.Increment(ref failures);
        });
        Assert.Equal(0, failures);
    }
}
