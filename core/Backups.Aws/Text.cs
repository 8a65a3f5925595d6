namespace Backups.Aws;

internal static class Text
{
    /// <summary>At most <paramref name="maxLength"/> UTF-16 units including the marker, never half a surrogate pair.</summary>
    public static string Truncate(string value, int maxLength, string marker = "")
    {
        if (value.Length <= maxLength) return value;
        var keep = maxLength - marker.Length;
        if (keep > 0 && char.IsHighSurrogate(value[keep - 1])) keep--;
        return string.Concat(value.AsSpan(0, keep), marker);
    }
}
