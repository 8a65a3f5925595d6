using System.Globalization;

namespace Backups.Core;

/// <summary>Durations that tests (and operators in a pinch) may override through the environment.</summary>
public static class Durations
{
    /// <summary>A positive number of seconds from an environment variable, or null when unset or unusable.</summary>
    public static TimeSpan? FromEnvironment(string variable) =>
        double.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0
            ? TimeSpan.FromSeconds(s) : null;
}
