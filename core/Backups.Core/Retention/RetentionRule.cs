using System.Globalization;
using Backups.Core.Repositories;

namespace Backups.Core.Retention;

public enum RetentionRuleKind { Count, Duration, TagList }

/// <summary>
/// One of restic's --keep-* options. <see cref="All"/> is the one list that the agent's forget flags and the
/// policy's JSON (<see cref="RetentionPolicyJson"/>: the Retention function's input, the run config's policies)
/// are read from, so a rule exists everywhere or nowhere. Values are restic's text: a count (-1 and "unlimited"
/// meaning every bucket, as restic 0.16+), a duration ("1y2m3d4h"), a comma-separated tag list (repeatable).
/// </summary>
public sealed class RetentionRule
{
    private readonly Func<RetentionPolicy, string, string, RetentionPolicy> _apply;
    private readonly Func<RetentionPolicy, IEnumerable<string>> _texts;

    private RetentionRule(string flag, string? shortFlag, string member, RetentionRuleKind kind,
        Func<RetentionPolicy, string, string, RetentionPolicy> apply, Func<RetentionPolicy, IEnumerable<string>> texts)
    {
        (Flag, ShortFlag, Member, Kind, _apply, _texts) = (flag, shortFlag, member, kind, apply, texts);
    }

    /// <summary>restic's flag without the dashes ("keep-within-daily").</summary>
    public string Flag { get; }
    public string? ShortFlag { get; }
    /// <summary>The JSON member in PascalCase ("KeepWithinDaily"; "KeepTags" for the repeatable --keep-tag).</summary>
    public string Member { get; }
    public RetentionRuleKind Kind { get; }

    public static readonly IReadOnlyList<RetentionRule> All =
    [
        Count("keep-last", "l", p => p.Last, (p, n) => p with { Last = n }),
        Count("keep-hourly", "H", p => p.Hourly, (p, n) => p with { Hourly = n }),
        Count("keep-daily", "d", p => p.Daily, (p, n) => p with { Daily = n }),
        Count("keep-weekly", "w", p => p.Weekly, (p, n) => p with { Weekly = n }),
        Count("keep-monthly", "m", p => p.Monthly, (p, n) => p with { Monthly = n }),
        Count("keep-yearly", "y", p => p.Yearly, (p, n) => p with { Yearly = n }),
        Duration("keep-within", p => p.Within, (p, d) => p with { Within = d }),
        Duration("keep-within-hourly", p => p.WithinHourly, (p, d) => p with { WithinHourly = d }),
        Duration("keep-within-daily", p => p.WithinDaily, (p, d) => p with { WithinDaily = d }),
        Duration("keep-within-weekly", p => p.WithinWeekly, (p, d) => p with { WithinWeekly = d }),
        Duration("keep-within-monthly", p => p.WithinMonthly, (p, d) => p with { WithinMonthly = d }),
        Duration("keep-within-yearly", p => p.WithinYearly, (p, d) => p with { WithinYearly = d }),
        new("keep-tag", null, "KeepTags", RetentionRuleKind.TagList,
            (p, text, _) => p with { KeepTags = [.. p.KeepTags, TagList.Parse(text)] },
            p => p.KeepTags.Select(t => string.Join(',', t.Tags))),
    ];

    /// <summary>
    /// The policy with this rule set from <paramref name="text"/> (a tag list is added to those before);
    /// <paramref name="label"/> names the rule in the error, as its reader spells it ("--keep-daily", "keepDaily").
    /// </summary>
    public RetentionPolicy Apply(RetentionPolicy policy, string text, string label) => _apply(policy, text, label);

    /// <summary>The texts that set this rule as <paramref name="policy"/> has it; none when it is unset.</summary>
    public IEnumerable<string> Texts(RetentionPolicy policy) => _texts(policy);

    /// <summary>A count as restic 0.16+ reads one: N >= 0, or -1 / "unlimited" for every bucket.</summary>
    public static int ParseCount(string text, string label)
    {
        if (text == "unlimited") return RetentionPolicy.Unlimited;
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
            throw Invalid($"{label} needs a whole number or 'unlimited', not '{text}'");
        return n >= RetentionPolicy.Unlimited ? n : throw Invalid($"{label} must be 0 or more, or unlimited (-1), not {n}");
    }

    private static RetentionRule Count(string flag, string shortFlag, Func<RetentionPolicy, int> get, Func<RetentionPolicy, int, RetentionPolicy> set) =>
        new(flag, shortFlag, MemberOf(flag), RetentionRuleKind.Count, (p, text, label) => set(p, ParseCount(text, label)),
            p => get(p) switch
            {
                0 => [],
                RetentionPolicy.Unlimited => ["unlimited"],
                var n => [n.ToString(CultureInfo.InvariantCulture)],
            });

    private static RetentionRule Duration(string flag, Func<RetentionPolicy, RetentionDuration> get, Func<RetentionPolicy, RetentionDuration, RetentionPolicy> set) =>
        new(flag, null, MemberOf(flag), RetentionRuleKind.Duration, (p, text, label) => set(p, ParseDuration(text, label)),
            p => get(p) is { IsZero: false } d ? [d.ToString()] : []);

    private static RetentionDuration ParseDuration(string text, string label)
    {
        try
        {
            return RetentionDuration.Parse(text);
        }
        catch (RepositoryException e) when (e.Kind == ErrorKind.InvalidArgument)
        {
            throw Invalid($"{label}: {e.Message}");
        }
    }

    private static string MemberOf(string flag) => string.Concat(flag.Split('-').Select(w => char.ToUpperInvariant(w[0]) + w[1..]));

    private static RepositoryException Invalid(string message) => new(ErrorKind.InvalidArgument, message);
}
