namespace Backups.Aws.Secrets;

/// <summary>Replaces every known secret value in a text.</summary>
public sealed class Redactor
{
    public const string Mask = "[redacted]";
    private readonly List<string> _secrets = [];

    public void Add(string secret)
    {
        if (secret.Length == 0) return;
        lock (_secrets)
            if (!_secrets.Contains(secret))
            {
                _secrets.Add(secret);
                // Longest first, so a secret that contains another is masked whole.
                _secrets.Sort((a, b) => b.Length.CompareTo(a.Length));
            }
    }

    public string Redact(string text)
    {
        lock (_secrets)
            foreach (var s in _secrets)
                text = text.Replace(s, Mask, StringComparison.Ordinal);
        return text;
    }
}
