using Backups.Core.Backends;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Snapshots;

/// <summary>restic's tag change: replace all tags (Set; empty for none), or add and then remove some.</summary>
public sealed record TagChange(IReadOnlyList<string>? Set, IReadOnlyList<string> Add, IReadOnlyList<string> Remove)
{
    /// <summary>The tags after the change, or null when nothing changes (restic's AddTags/RemoveTags, whose removal
    /// moves the last tag into the removed one's place).</summary>
    public List<string>? Apply(IReadOnlyList<string>? current)
    {
        if (Set != null) return [.. Set];
        var tags = current?.ToList() ?? [];
        var changed = false;
        foreach (var tag in Add)
            if (!tags.Contains(tag))
            {
                tags.Add(tag);
                changed = true;
            }
        foreach (var tag in Remove)
            for (var i = 0; i < tags.Count; i++)
                if (tags[i] == tag)
                {
                    tags[i] = tags[^1];
                    tags.RemoveAt(tags.Count - 1);
                    changed = true;
                }
        return changed ? tags : null;
    }
}

/// <summary>
/// Rewrites a snapshot with changed tags as restic does: the new snapshot names the first version of it in
/// <c>original</c>, is saved first, and only then is the old file removed, so a crash between the two leaves both
/// (the same backup twice), never neither. The caller holds an exclusive lock.
/// </summary>
public static class SnapshotTagger
{
    /// <summary>The new snapshot's id, or null when the change leaves the tags as they are.</summary>
    public static async Task<Id?> ChangeAsync(Repo repo, Snapshot snapshot, TagChange change, CancellationToken ct = default)
    {
        var tags = change.Apply(snapshot.Tags);
        if (tags == null) return null;
        var oldId = snapshot.Id;
        snapshot.Tags = tags.Count == 0 ? null : tags;
        snapshot.Original ??= oldId;
        var newId = await repo.SaveSnapshotAsync(snapshot, ct);
        snapshot.Id = newId;
        if (newId != oldId) await repo.Backend.RemoveAsync(new FileHandle(FileKind.Snapshot, oldId.ToString()), ct);
        return newId;
    }
}
