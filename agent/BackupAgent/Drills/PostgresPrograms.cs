using System.Globalization;

namespace BackupAgent.Drills;

/// <summary>PostgreSQL's server programs (initdb, pg_ctl), run by the postgres account when the agent is root:
/// the server refuses to run as root. Used by the drills' temporary clusters and by point-in-time recovery.</summary>
public static class PostgresPrograms
{
    public const string OsUser = "postgres";

    public static Task<ChildResult> AsOwnerAsync(string tool, IReadOnlyList<string> args, CancellationToken ct) =>
        Environment.IsPrivilegedProcess
            ? ChildProcess.RunAsync("runuser", ["-u", OsUser, "--", ServerProgram(tool), .. args], null, null, ct, "/")
            : ChildProcess.RunAsync(ServerProgram(tool), args, null, null, ct);

    /// <summary>
    /// initdb and pg_ctl: from PATH, else the newest /usr/lib/postgresql/N/bin (Debian keeps server programs
    /// off PATH). The newest server restores dumps of every older version.
    /// </summary>
    public static string ServerProgram(string name)
    {
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => System.IO.Path.Combine(d, name)).FirstOrDefault(File.Exists);
        if (onPath != null) return onPath;
        const string debian = "/usr/lib/postgresql";
        var versioned = Directory.Exists(debian)
            ? Directory.GetDirectories(debian)
                .Select(d => (Dir: d, Version: int.TryParse(System.IO.Path.GetFileName(d), CultureInfo.InvariantCulture, out var v) ? v : -1))
                .Where(d => d.Version >= 0 && File.Exists(System.IO.Path.Combine(d.Dir, "bin", name)))
                .OrderByDescending(d => d.Version).Select(d => System.IO.Path.Combine(d.Dir, "bin", name)).FirstOrDefault()
            : null;
        return versioned ?? name;
    }
}
