namespace BackupAgent.Cli;

public static class Tags
{
    /// <summary>restic reads `--tag a,b` as two tags.</summary>
    public static List<string> Parse(IEnumerable<string> values) =>
        values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct().ToList();
}
