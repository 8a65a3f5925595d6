using System.Globalization;
using System.Text;
using Backups.Core.Repositories;

namespace Backups.Core.Retention;

/// <summary>
/// restic's calendar duration for the --keep-within rules ("2y5m7d3h"): years, months and days are calendar
/// steps back from the newest snapshot (Go's AddDate), hours are exact.
/// </summary>
public readonly record struct RetentionDuration(int Years, int Months, int Days, int Hours)
{
    public bool IsZero => Years == 0 && Months == 0 && Days == 0 && Hours == 0;

    /// <summary>restic's syntax: number-unit pairs (y, m, d, h) in any order, a repeated unit overriding the
    /// earlier one, surrounding spaces ignored, "" meaning zero. Negative numbers, which restic 0.14 accepts and
    /// then keeps nothing by, are refused.</summary>
    public static RetentionDuration Parse(string text)
    {
        var s = text.Trim();
        var d = new RetentionDuration();
        var i = 0;
        while (i < s.Length)
        {
            var start = i;
            if (s[i] == '-') throw Invalid(text, "negative durations are not allowed");
            while (i < s.Length && char.IsAsciiDigit(s[i])) i++;
            if (i == start) throw Invalid(text, "no number found");
            if (!int.TryParse(s.AsSpan(start, i - start), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                throw Invalid(text, "number too large");
            if (i == s.Length) throw Invalid(text, $"no unit found after number {n}");
            d = s[i] switch
            {
                'y' => d with { Years = n },
                'm' => d with { Months = n },
                'd' => d with { Days = n },
                'h' => d with { Hours = n },
                var u => throw Invalid(text, $"invalid unit '{u}' found after number {n}"),
            };
            i++;
        }
        return d;
    }

    private static RepositoryException Invalid(string text, string why) =>
        new(ErrorKind.InvalidArgument, $"invalid duration '{text}': {why} (use e.g. 1y5m7d2h)");

    /// <summary>As restic prints it in reasons ("within 1y2d"): only the parts that are set.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        if (Years != 0) sb.Append(CultureInfo.InvariantCulture, $"{Years}y");
        if (Months != 0) sb.Append(CultureInfo.InvariantCulture, $"{Months}m");
        if (Days != 0) sb.Append(CultureInfo.InvariantCulture, $"{Days}d");
        if (Hours != 0) sb.Append(CultureInfo.InvariantCulture, $"{Hours}h");
        return sb.ToString();
    }
}
