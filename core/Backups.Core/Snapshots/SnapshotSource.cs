namespace Backups.Core.Snapshots;

/// <summary>
/// Which source a snapshot belongs to. The nightly run tags every snapshot with its source's name first, then
/// the source's own tags and the run's (e.g. pre-deploy), so a snapshot's source is its first tag; an untagged
/// snapshot (one made by hand) belongs to none. The agent writes the rule and the functions read it here.
/// </summary>
public static class SnapshotSource
{
    /// <summary>The tags a source's snapshot carries: the source's name, then <paramref name="more"/>.</summary>
    public static List<string> Tags(string source, IEnumerable<string> more) => [source, .. more];

    public static string? Of(Snapshot snapshot) => snapshot.Tags is { Count: > 0 } tags ? tags[0] : null;
}
