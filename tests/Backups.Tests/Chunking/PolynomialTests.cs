using Backups.Core.Chunking;
using Xunit;

namespace Backups.Tests.Chunking;

public class PolynomialTests
{
    // restic's test polynomial and the one its docs show in a config.
    private const ulong ResticTestPol = 0x3DA3358B4DC173;

    private static Polynomial P(ulong v) => new(v);
    private static Polynomial Bin(string bits) => new(Convert.ToUInt64(bits, 2));

    [Fact]
    public void Degree_is_index_of_highest_bit()
    {
        Assert.Equal(-1, P(0).Deg);
        Assert.Equal(0, P(1).Deg);
        for (int i = 0; i < 64; i++) Assert.Equal(i, P(1UL << i).Deg);
        Assert.Equal(53, P(ResticTestPol).Deg);
        Assert.Equal(41, P(0x3af4b284899).Deg);
    }

    public static TheoryData<ulong, ulong, ulong> ModCases() => new()
    {
        { 10, 50, 10 },
        { 0, 1, 0 },
        { Bin("101101001").Value, Bin("1010").Value, 1 },
        { 2, 2, 0 },
        { 0x8000000000000000, 0x8000000000000000, 0 },
        { Bin("1100").Value, Bin("100").Value, 0 },
        { Bin("1100001111").Value, Bin("10011").Value, 0 },
        { Bin("1100001110").Value, Bin("10011").Value, 1 },
    };

    [Theory, MemberData(nameof(ModCases))]
    public void Mod(ulong x, ulong d, ulong remainder) => Assert.Equal(P(remainder), P(x).Mod(P(d)));

    [Fact]
    public void Mod_by_zero_throws() => Assert.Throws<DivideByZeroException>(() => P(5).Mod(P(0)));

    public static TheoryData<ulong, ulong, ulong, ulong> MulModCases() => new()
    {
        { 0x1230, 0x230, 0x55, 0x22 },
        { 0x0eae8c07dbbb3026, 0xd5d6db9de04771de, 0xdd2bda3b77c9, 0x425ae8595b7a },
        { 0, 0x1234, 0x11b, 0 },
        { Bin("1101").Value, Bin("10").Value, 0x8000000000000001, Bin("11010").Value },
        { Bin("10011").Value, Bin("110101").Value, 0x8000000000000001, Bin("1100001111").Value },
    };

    [Theory, MemberData(nameof(MulModCases))]
    public void Mul_mod(ulong x, ulong f, ulong g, ulong result) => Assert.Equal(P(result), P(x).MulMod(P(f), P(g)));

    public static TheoryData<ulong, ulong, ulong> GcdCases() => new()
    {
        { 10, 50, 2 },
        { 0, 1, 1 },
        { Bin("101101001").Value, Bin("1010").Value, 1 },
        { 2, 2, 2 },
        { Bin("1010").Value, Bin("11").Value, Bin("11").Value },
        { 0x8000000000000000, 0x8000000000000000, 0x8000000000000000 },
        { Bin("1100").Value, Bin("101").Value, Bin("11").Value },
        { Bin("1100001111").Value, Bin("10011").Value, Bin("10011").Value },
        { ResticTestPol, ResticTestPol, ResticTestPol },
        { ResticTestPol, 0x230d2259defd, 1 },
        { 0x230d2259defd, 0x51b492b3eff2, Bin("10011").Value },
    };

    [Theory, MemberData(nameof(GcdCases))]
    public void Gcd(ulong a, ulong b, ulong gcd)
    {
        Assert.Equal(P(gcd), P(a).Gcd(P(b)));
        Assert.Equal(P(gcd), P(b).Gcd(P(a)));
    }

    // restic's table: two irreducible polynomials among reducible ones of the same degree.
    [Theory]
    [InlineData(0x38f1e565e288dfUL, false)]
    [InlineData(0x3DA3358B4DC173UL, true)]
    [InlineData(0x30a8295b9d5c91UL, false)]
    [InlineData(0x255f4350b962cbUL, false)]
    [InlineData(0x267f776110a235UL, false)]
    [InlineData(0x2f4dae10d41227UL, false)]
    [InlineData(0x2482734cacca49UL, true)]
    [InlineData(0x312daf4b284899UL, false)]
    [InlineData(0x29dfb6553d01d1UL, false)]
    [InlineData(0x3548245eb26257UL, false)]
    [InlineData(0x3199e7ef4211b3UL, false)]
    [InlineData(0x362f39017dae8bUL, false)]
    [InlineData(0x200d57aa6fdacbUL, false)]
    [InlineData(0x35e0a4efa1d275UL, false)]
    [InlineData(0x2ced55b026577fUL, false)]
    [InlineData(0x260b012010893dUL, false)]
    [InlineData(0x2df29cbcd59e9dUL, false)]
    [InlineData(0x3f2ac7488bd429UL, false)]
    [InlineData(0x3e5cb1711669fbUL, false)]
    [InlineData(0x226d8de57a9959UL, false)]
    [InlineData(0x3c8de80aaf5835UL, false)]
    [InlineData(0x2026a59efb219bUL, false)]
    [InlineData(0x39dfa4d13fb231UL, false)]
    [InlineData(0x3143d0464b3299UL, false)]
    [InlineData(0x3dea92648f6e83UL, true)]   // a polynomial restic wrote into a config
    [InlineData(0x11bUL, true)]              // AES's x^8+x^4+x^3+x+1
    [InlineData(0x11aUL, false)]             // divisible by x
    [InlineData(0b101UL, false)]             // x^2+1 = (x+1)^2
    public void Irreducible(ulong f, bool irreducible) => Assert.Equal(irreducible, P(f).Irreducible);

    [Fact]
    public void Reducible_product_of_irreducibles()
    {
        // (x^2+x+1)(x^3+x+1) = x^5+x^4+1
        Assert.True(P(0b111).Irreducible);
        Assert.True(P(0b1011).Irreducible);
        Assert.False(P(0b110001).Irreducible);
    }

    [Fact]
    public void Random_is_irreducible_of_degree_53()
    {
        var seen = new HashSet<Polynomial>();
        for (int i = 0; i < 5; i++)
        {
            var p = Polynomial.Random();
            Assert.Equal(53, p.Deg);
            Assert.True(p.Irreducible);
            seen.Add(p);
        }
        Assert.True(seen.Count > 1);
    }

    [Fact]
    public void Hex_as_in_restic_config()
    {
        Assert.Equal("3dea92648f6e83", P(0x3dea92648f6e83).ToString());
        Assert.Equal(P(0x3dea92648f6e83), Polynomial.Parse("3dea92648f6e83"));
        Assert.Equal(P(ResticTestPol), Polynomial.Parse("3DA3358B4DC173"));
        var r = Polynomial.Random();
        Assert.Equal(r, Polynomial.Parse(r.ToString()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0x3dea92648f6e83")]
    [InlineData("3dea9264 8f6e83")]
    [InlineData("xyz")]
    [InlineData("10000000000000000")] // 65 bits
    public void Parse_rejects(string text)
    {
        Assert.False(Polynomial.TryParse(text, out _));
        Assert.Throws<FormatException>(() => Polynomial.Parse(text));
    }
}
