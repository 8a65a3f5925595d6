using System.Text;
using Backups.Functions.Contracts;

namespace Backups.Functions.Handlers.Notify;

/// <summary>
/// A night that succeeded although some sources' snapshots lack files (they vanished or could not be read while
/// the backup ran). The later steps ran; a person should still know what is missing, whatever the summary cadence.
/// </summary>
public static class WarningReport
{
    /// <summary>The message, or null when no source reported a warning.</summary>
    public static Message? Compose(NotifyInput input, string host, NotifyLocations where)
    {
        var warned = (input.BackupSources ?? []).Where(s => s.Warnings is { Count: > 0 }).ToList();
        if (warned.Count == 0) return null;
        var body = new StringBuilder()
            .AppendLine($"The backup of {host} succeeded, but the snapshots of {string.Join(", ", warned.Select(s => s.Name))} lack some files:")
            .AppendLine();
        foreach (var source in warned)
        {
            body.AppendLine($"  {source.Name}:");
            foreach (var warning in source.Warnings!) body.AppendLine($"    {warning}");
        }
        body.AppendLine()
            .AppendLine("Files that vanish while they are backed up (temporary files, rotated logs) are expected; others may need")
            .AppendLine("an exclude or a fix of their permissions.")
            .AppendLine();
        where.AppendExecution(body, input);
        return new Message($"Backups done with warnings: {host}", body.ToString());
    }
}
