using Backups.Core.Filtering;

namespace Backups.Core.Restoring;

/// <summary>What to restore and how (restic's restore flags).</summary>
public sealed record RestoreOptions
{
    /// <summary>Only paths matching one of these (and the directories leading to them) are restored.</summary>
    public IReadOnlyList<PathPattern> Include { get; init; } = [];
    /// <summary>Paths matching one of these (and everything below them) are left out.</summary>
    public IReadOnlyList<PathPattern> Exclude { get; init; } = [];
    /// <summary>Reads every restored file back and checks its content against the snapshot.</summary>
    public bool Verify { get; init; }
    /// <summary>How many ranged pack reads run at once: by default the store's connection count (S3), else
    /// <see cref="LocalPacks"/> (local reads overlapping decryption).</summary>
    public int? Packs { get; init; }

    public const int LocalPacks = 8;
    /// <summary>Files whose content is fetched in one round: each stays open until its round is written.</summary>
    public int FilesPerRound { get; init; } = 512;

    /// <summary>
    /// Whether the node at <paramref name="path"/> is restored, and whether to look inside it, as restic decides:
    /// an exclude leaves out the path and all below it; an include restores what it matches and descends into
    /// directories below which it may still match (those directories are made, without their metadata).
    /// </summary>
    public (bool Selected, bool Descend) Select(string path, bool isDirectory)
    {
        if (Exclude.Any(p => p.Matches(path))) return (false, false);
        if (Include.Count == 0) return (true, isDirectory);
        var selected = Include.Any(p => p.Matches(path));
        return (selected, isDirectory && (selected || Include.Any(p => p.ChildMayMatch(path))));
    }
}
