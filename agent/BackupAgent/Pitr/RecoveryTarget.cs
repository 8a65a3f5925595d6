using System.Globalization;
using Backups.Core.Repositories;
using Backups.Core.Wal;

namespace BackupAgent.Pitr;

/// <summary>Where recovery stops: the end of the archive, a moment, or a WAL position.</summary>
public sealed record RecoveryTarget(DateTimeOffset? Time, Lsn? Lsn)
{
    public bool IsLatest => Time == null && Lsn == null;

    // What `SELECT now()` prints ("2026-12-02 11:26:23.123456+00") and its shorter forms; no zone means this machine's.
    private static readonly string[] TimeFormats =
    [
        "yyyy-MM-dd HH:mm:ss.FFFFFFzzz", "yyyy-MM-dd HH:mm:ss.FFFFFFzz", "yyyy-MM-dd HH:mm:ss.FFFFFF",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFzzz", "yyyy-MM-dd'T'HH:mm:ss.FFFFFF'Z'",
    ];

    public static RecoveryTarget Parse(string text)
    {
        if (text == "latest") return new(null, null);
        if (Backups.Core.Wal.Lsn.TryParse(text, out var lsn)) return new(null, lsn);
        if (DateTimeOffset.TryParseExact(text.Trim(), TimeFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out var time))
            return new(time, null);
        throw new RepositoryException(ErrorKind.InvalidArgument,
            $"--to '{text}' is neither 'latest', a WAL position (16/B374D848) nor a time (YYYY-MM-DD HH:MM:SS[.ffffff][+TZ])");
    }

    /// <summary>The postgresql.conf lines that stop recovery here and open the cluster for writing.</summary>
    public IEnumerable<string> Settings => IsLatest ? [] :
    [
        Time is { } t ? $"recovery_target_time = '{t.ToString("yyyy-MM-dd HH:mm:ss.ffffffzzz", CultureInfo.InvariantCulture)}'"
            : $"recovery_target_lsn = '{Lsn}'",
        "recovery_target_action = 'promote'",
    ];

    public override string ToString() => Time?.ToString("yyyy-MM-dd HH:mm:ss.ffffffzzz", CultureInfo.InvariantCulture) ?? Lsn?.ToString() ?? "latest";
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower)]
[System.Text.Json.Serialization.JsonSerializable(typeof(RecoveryResult))]
public sealed partial class PitrJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
