using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;

namespace Backups.Core.Chunking;

/// <summary>
/// A polynomial over GF(2), bit i being the coefficient of x^i. It is the key of the Rabin
/// fingerprint that restic's chunker uses; a repository stores it in its config as
/// "chunker_polynomial" in lowercase hex without prefix.
/// </summary>
public readonly record struct Polynomial(ulong Value)
{
    /// <summary>The degree every polynomial that restic generates has (the largest prime below 64 - 8).</summary>
    public const int RandomDegree = 53;

    // restic gives up after this many candidates rather than loop forever; about 1 in 27 candidates
    // is irreducible, so reaching it means the random source is broken.
    private const int RandomMaxTries = 1_000_000;

    /// <summary>Degree of the polynomial; -1 for the zero polynomial.</summary>
    public int Deg => 63 - BitOperations.LeadingZeroCount(Value);

    /// <summary>Remainder of this polynomial divided by <paramref name="divisor"/>.</summary>
    public Polynomial Mod(Polynomial divisor)
    {
        if (divisor.Value == 0) throw new DivideByZeroException("polynomial division by zero");
        ulong x = Value;
        int d = divisor.Deg;
        for (int diff = Deg - d; diff >= 0; diff = (63 - BitOperations.LeadingZeroCount(x)) - d)
            x ^= divisor.Value << diff;
        return new Polynomial(x);
    }

    /// <summary>(this · <paramref name="factor"/>) mod <paramref name="modulus"/>, without overflowing 64 bits.</summary>
    public Polynomial MulMod(Polynomial factor, Polynomial modulus)
    {
        ulong a = Mod(modulus).Value;
        ulong f = factor.Value;
        ulong result = 0;
        while (f != 0)
        {
            if ((f & 1) != 0) result ^= a;
            f >>= 1;
            if (f != 0) a = new Polynomial(a << 1).Mod(modulus).Value;
        }
        return new Polynomial(result);
    }

    /// <summary>Greatest common divisor (Euclid).</summary>
    public Polynomial Gcd(Polynomial other)
    {
        ulong a = Value, b = other.Value;
        while (b != 0) (a, b) = (b, new Polynomial(a).Mod(new Polynomial(b)).Value);
        return new Polynomial(a);
    }

    /// <summary>
    /// Ben-Or's irreducibility test as restic runs it: irreducible iff gcd(f, x^(2^i) - x mod f) = 1
    /// for every i up to deg(f)/2.
    /// </summary>
    public bool Irreducible
    {
        get
        {
            var x = new Polynomial(2);
            var power = x; // x^(2^i) mod this, built by repeated squaring
            for (int i = 1; i <= Deg / 2; i++)
            {
                power = power.MulMod(power, this);
                if (Gcd(new Polynomial(power.Value ^ x.Value).Mod(this)).Value != 1) return false;
            }
            return true;
        }
    }

    /// <summary>A random irreducible polynomial of degree 53 drawn like restic's RandomPolynomial.</summary>
    public static Polynomial Random()
    {
        Span<byte> bytes = stackalloc byte[8];
        for (int i = 0; i < RandomMaxTries; i++)
        {
            RandomNumberGenerator.Fill(bytes);
            // Keep bits 0..53, then force degree 53 and a constant term (otherwise x divides it).
            ulong f = BinaryPrimitives.ReadUInt64LittleEndian(bytes) & ((1UL << (RandomDegree + 1)) - 1);
            var candidate = new Polynomial(f | (1UL << RandomDegree) | 1);
            if (candidate.Irreducible) return candidate;
        }
        throw new CryptographicException("no irreducible polynomial found; the random source is suspect");
    }

    /// <summary>Lowercase hex without prefix, the form of restic's config.</summary>
    public override string ToString() => Value.ToString("x", CultureInfo.InvariantCulture);

    public static Polynomial Parse(string hex) =>
        TryParse(hex, out var p) ? p : throw new FormatException($"invalid chunker polynomial '{hex}'");

    public static bool TryParse([NotNullWhen(true)] string? hex, out Polynomial polynomial)
    {
        bool ok = ulong.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var v);
        polynomial = new Polynomial(v);
        return ok;
    }
}
