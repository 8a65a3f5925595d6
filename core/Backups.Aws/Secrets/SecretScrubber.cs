using System.Text.RegularExpressions;

namespace Backups.Aws.Secrets;

/// <summary>
/// Masks what looks like a secret in a text that came from elsewhere (an error cause from another step, a
/// program's stderr), where <see cref="Redactor"/> cannot know the values: a value after a password/secret/token
/// key (KEY=value, or a JSON member; prose such as "wrong password: ..." is left alone), a URL's user-info password, and long opaque tokens such as Step Functions task tokens.
/// </summary>
public static partial class SecretScrubber
{
    public static string Scrub(string text)
    {
        text = KeyedValue().Replace(text, m => m.Groups["key"].Value + m.Groups["sep"].Value + Redactor.Mask);
        text = UrlPassword().Replace(text, m => m.Groups["user"].Value + Redactor.Mask + "@");
        return OpaqueToken().Replace(text, Redactor.Mask);
    }

    [GeneratedRegex("""(?<key>[\w.-]*(?:password|passwd|secret|token|credential|auth|api_?key)[\w.-]*)(?<sep>=|["']\s*:\s*["']?)(?!\[redacted\])[^\s"',;&]+""",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex KeyedValue();

    [GeneratedRegex("""(?<user>://[^/\s:@]+:)[^@\s/]+@""")]
    private static partial Regex UrlPassword();

    // Task tokens are several hundred characters; ids and hashes this system prints are at most 64.
    [GeneratedRegex("[A-Za-z0-9+/=_-]{100,}")]
    private static partial Regex OpaqueToken();
}
