using System.Globalization;
using Backups.Core.Repositories;

namespace Backups.Core.Pruning;

/// <summary>
/// restic's --max-unused: how much unused data may stay behind after a prune, as a percentage of the used
/// data ("5%", the default), an absolute size ("200M", suffixes k/m/g/t in powers of 1024) or "unlimited".
/// </summary>
public readonly record struct MaxUnused(double Percent, ulong Bytes, bool Unlimited)
{
    public static readonly MaxUnused Default = new(5, 0, false);

    public static MaxUnused Parse(string text)
    {
        var t = text.Trim();
        if (t == "unlimited") return new MaxUnused(0, 0, true);
        if (t.EndsWith('%'))
        {
            if (!double.TryParse(t[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var p) || double.IsNaN(p))
                throw Invalid(text, "not a percentage");
            if (p < 0) throw Invalid(text, "a percentage must be positive");
            if (p >= 100) throw Invalid(text, "a percentage must be below 100%");
            return new MaxUnused(p, 0, false);
        }
        return new MaxUnused(0, ParseSize(t) ?? throw Invalid(text, "not a size (e.g. 500M, 2G) nor a percentage nor 'unlimited'"), false);
    }

    /// <summary>Unused bytes tolerated after pruning, given the bytes still in use.</summary>
    public ulong Allowed(ulong used) =>
        Unlimited ? ulong.MaxValue : Bytes > 0 || Percent == 0 ? Bytes : (ulong)(Percent / (100 - Percent) * used);

    public override string ToString() =>
        Unlimited ? "unlimited" : Bytes > 0 || Percent == 0 ? Bytes.ToString(CultureInfo.InvariantCulture) : $"{Percent.ToString(CultureInfo.InvariantCulture)}%";

    private static ulong? ParseSize(string t)
    {
        if (t.Length == 0) return null;
        var shift = char.ToLowerInvariant(t[^1]) switch { 'k' => 10, 'm' => 20, 'g' => 30, 't' => 40, _ => 0 };
        var digits = shift > 0 ? t[..^1] : t;
        if (!ulong.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > ulong.MaxValue >> shift) return null;
        return n << shift;
    }

    private static RepositoryException Invalid(string text, string why) =>
        new(ErrorKind.InvalidArgument, $"invalid value '{text}' for max unused: {why}");
}
