namespace Backups.Core.Retention;

/// <summary>
/// Tags that must all be present (restic's "a,b" in one --tag or --keep-tag). The empty tag matches a
/// snapshot without tags, as in restic.
/// </summary>
public sealed record TagList(IReadOnlyList<string> Tags)
{
    /// <summary>restic's reading of one flag value: split at commas, spaces around each tag trimmed, empties kept.</summary>
    public static TagList Parse(string text) => new(text.Split(',').Select(t => t.Trim()).ToList());

    public bool MatchedBy(IReadOnlyList<string>? snapshotTags)
    {
        foreach (var tag in Tags)
        {
            if (tag == "" && (snapshotTags == null || snapshotTags.Count == 0)) return true;
            if (snapshotTags?.Contains(tag) != true) return false;
        }
        return true;
    }

    public override string ToString() => $"[{string.Join(", ", Tags)}]";
}
