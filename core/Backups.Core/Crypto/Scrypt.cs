using Org.BouncyCastle.Crypto.Generators;

namespace Backups.Core.Crypto;

/// <summary>The scrypt key derivation function of RFC 7914, which restic uses to turn a password into a user key.</summary>
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

        // Once per key file tried, once per command: BouncyCastle's took within noise of the hand-vectorized one it
        // replaced at the parameters restic writes (0.3-1 s for N = 2^14..2^17, r = 8, p = 1..4, on a loaded 2-core box).
        var key = SCrypt.Generate(password.ToArray(), salt.ToArray(), n, r, p, length);
        // Its scratch space (128 * r * N bytes: 32 MiB at restic's parameters) is one large-object array that the
        // agent's non-concurrent collector would keep committed for the whole command: it raised an unchanged repeat
        // backup's peak RSS from 57 to 92 MiB (tests/bench --case tree). One collection now, while the heap is still
        // small (a derivation runs once per key file tried), gives it back.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return key;
    }
}
