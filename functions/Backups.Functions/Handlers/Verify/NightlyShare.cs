using Backups.Core.Checking;
using Backups.Functions.Runtime;

namespace Backups.Functions.Handlers.Verify;

/// <summary>The packs a night reads: every pack when asked to go deep, else the day's slice of the rotation.</summary>
public static class NightlyShare
{
    public static PackSelection Choose(bool? deep, int? cycleDays, DateTimeOffset now, VerifySettings settings)
    {
        if (deep == true) return PackSelection.All;
        var cycle = cycleDays ?? settings.CycleDays;
        if (cycle < 1) throw new InvalidInputException("invalid input at $.cycleDays: must be at least 1");
        return PackSelection.Rotation(DateOnly.FromDateTime(now.UtcDateTime), cycle);
    }
}
