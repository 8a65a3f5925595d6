using System.Globalization;

namespace BackupAgent.Cli;

/// <summary>Byte counts as people read them (binary units, as restic prints them).</summary>
public static class Size
{
    public static string Format(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double v = bytes;
        var u = 0;
        // As restic's formatBytes: 1024 B is still "1024 B".
        while (v > 1024 && u < units.Length - 1) { v /= 1024; u++; }
        return u == 0 ? $"{bytes} B" : $"{v.ToString("0.000", CultureInfo.InvariantCulture)} {units[u]}";
    }
}
