using System.Reflection;
using System.Runtime.InteropServices;

namespace Backups.Core;

public static class ProgramInfo
{
    public const string Name = "backup-agent";
    public static string Version => $"{Name} {Number}";

    private static Assembly Assembly => typeof(ProgramInfo).Assembly;

    public static string Number => Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>The git commit built (the SDK appends it to the informational version as "+sha"), or "unknown".</summary>
    public static string Commit
    {
        get
        {
            var informational = Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "";
            var plus = informational.IndexOf('+');
            return plus < 0 ? "unknown" : informational[(plus + 1)..];
        }
    }

    public static string BuildDate =>
        Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "BuildDate")?.Value ?? "unknown";

    /// <summary>As restic's `version` line, plus the commit and the build: "backup-agent 1.0.0 (commit 1a2b3c4d,
    /// built 2026-12-01) compiled with .NET 10.0.0 on linux/x64".</summary>
    public static string Description =>
        $"{Version} (commit {Commit[..Math.Min(8, Commit.Length)]}, built {BuildDate}) compiled with .NET {Environment.Version} " +
        $"on linux/{RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant()}";
}
