using System.Security.Cryptography;

namespace Backups.Core.Crypto;

/// <summary>
/// A restic master key (or a user key derived from a password): AES-256-CTR for secrecy and Poly1305-AES for
/// integrity. A sealed box is <c>IV (16) || ciphertext || MAC (16)</c>, the MAC covering the ciphertext only.
/// Immutable and safe to use from many threads at once.
/// </summary>
public sealed class CryptoKey
{
    public const int IvSize = AesCtr.BlockSize;
    public const int MacSize = Poly1305.TagSize;
    public const int Overhead = IvSize + MacSize;

    private const string VerificationFailed = "ciphertext verification failed (wrong password or damaged data)";

    private readonly byte[] _encryptionKey;
    private readonly byte[] _macK;
    private readonly byte[] _macR;
    private readonly AesCtr _cipher;
    private readonly AesCtr _macCipher;

    /// <param name="encryptionKey">32 bytes, restic's <c>encrypt</c>.</param>
    /// <param name="macK">16 bytes, restic's <c>mac.k</c>: the AES-128 key that turns each IV into Poly1305's <c>s</c>.</param>
    /// <param name="macR">16 bytes, restic's <c>mac.r</c>: Poly1305's <c>r</c>, unclamped as restic stores it.</param>
    public CryptoKey(byte[] encryptionKey, byte[] macK, byte[] macR)
    {
        _encryptionKey = CheckedCopy(encryptionKey, 32, nameof(encryptionKey));
        _macK = CheckedCopy(macK, 16, nameof(macK));
        _macR = CheckedCopy(macR, 16, nameof(macR));
        _cipher = new AesCtr(_encryptionKey);
        _macCipher = new AesCtr(_macK);
    }

    public ReadOnlySpan<byte> EncryptionKey => _encryptionKey;
    public ReadOnlySpan<byte> MacK => _macK;
    public ReadOnlySpan<byte> MacR => _macR;

    public static CryptoKey Random() =>
        new(RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(16), RandomNumberGenerator.GetBytes(16));

    /// <summary>
    /// Encrypts and authenticates <paramref name="plaintext"/> into the first <c>plaintext.Length + Overhead</c>
    /// bytes of <paramref name="destination"/>. To encrypt in place, pass <c>destination[IvSize..][..length]</c> as
    /// the plaintext; any other overlap is refused.
    /// </summary>
    public void Seal(ReadOnlySpan<byte> plaintext, Span<byte> destination)
    {
        if (destination.Length < plaintext.Length + Overhead)
            throw new ArgumentException($"destination needs {plaintext.Length + Overhead} bytes", nameof(destination));
        Span<byte> iv = destination[..IvSize];
        Span<byte> ciphertext = destination.Slice(IvSize, plaintext.Length);
        if (plaintext.Overlaps(destination) && !IsSameMemory(plaintext, ciphertext))
            throw new ArgumentException("plaintext overlaps destination other than at the ciphertext position", nameof(plaintext));

        // restic rejects an all-zero IV when opening, so never produce one.
        do
            RandomNumberGenerator.Fill(iv);
        while (!iv.ContainsAnyExcept((byte)0));

        _cipher.Transform(iv, plaintext, ciphertext);
        ComputeMac(iv, ciphertext, destination.Slice(IvSize + plaintext.Length, MacSize));
    }

    public byte[] Seal(ReadOnlySpan<byte> plaintext)
    {
        byte[] box = GC.AllocateUninitializedArray<byte>(plaintext.Length + Overhead);
        Seal(plaintext, box);
        return box;
    }

    /// <summary>
    /// Authenticates <paramref name="box"/> and, only if it is genuine, decrypts it into the first
    /// <c>box.Length - Overhead</c> bytes of <paramref name="plaintext"/>. Returns false when the box is too short,
    /// has an all-zero IV or fails verification; <paramref name="plaintext"/> is then left untouched.
    /// To decrypt in place, pass <c>box[IvSize..^MacSize]</c> as the plaintext; any other overlap is refused.
    /// </summary>
    public bool TryOpen(ReadOnlySpan<byte> box, Span<byte> plaintext)
    {
        if (box.Length < Overhead)
            return false;
        int length = box.Length - Overhead;
        if (plaintext.Length < length)
            throw new ArgumentException($"plaintext needs {length} bytes", nameof(plaintext));
        ReadOnlySpan<byte> iv = box[..IvSize];
        ReadOnlySpan<byte> ciphertext = box.Slice(IvSize, length);
        Span<byte> output = plaintext[..length];
        if (output.Overlaps(box) && !IsSameMemory(output, ciphertext))
            throw new ArgumentException("plaintext overlaps box other than at the ciphertext position", nameof(plaintext));

        if (!iv.ContainsAnyExcept((byte)0))
            return false;
        Span<byte> expected = stackalloc byte[MacSize];
        ComputeMac(iv, ciphertext, expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, box[^MacSize..]))
            return false;

        _cipher.Transform(iv, ciphertext, output);
        return true;
    }

    /// <exception cref="CryptoException">The box is too short or does not verify under this key.</exception>
    public byte[] Open(ReadOnlySpan<byte> box)
    {
        byte[] plaintext = GC.AllocateUninitializedArray<byte>(Math.Max(0, box.Length - Overhead));
        if (!TryOpen(box, plaintext))
            throw new CryptoException(VerificationFailed);
        return plaintext;
    }

    /// <summary>Poly1305-AES as restic does it: r = mac.r, s = AES-128(mac.k, IV).</summary>
    private void ComputeMac(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> ciphertext, Span<byte> tag)
    {
        Span<byte> s = stackalloc byte[Poly1305.KeyPartSize];
        _macCipher.EncryptBlock(iv, s);
        Poly1305.ComputeTag(_macR, s, ciphertext, tag);
    }

    private static bool IsSameMemory(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) =>
        a.Overlaps(b, out int offset) && offset == 0 && a.Length == b.Length;

    private static byte[] CheckedCopy(byte[] key, int length, string name)
    {
        ArgumentNullException.ThrowIfNull(key, name);
        if (key.Length != length)
            throw new ArgumentException($"{name} must be {length} bytes, not {key.Length}", name);
        // restic refuses all-zero keys; one here means a broken key file or a bug, never a real key.
        if (!key.AsSpan().ContainsAnyExcept((byte)0))
            throw new ArgumentException($"{name} must not be all zero", name);
        return (byte[])key.Clone();
    }
}
