namespace Backups.Core;

public static class ProgramInfo
{
    public const string Name = "backup-agent";
    public static string Version => $"{Name} {typeof(ProgramInfo).Assembly.GetName().Version?.ToString(3) ?? "0.0.0"}";
}
