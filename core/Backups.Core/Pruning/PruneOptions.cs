namespace Backups.Core.Pruning;

/// <summary>What a prune may leave behind and whether it may change anything.</summary>
public sealed record PruneOptions
{
    public MaxUnused MaxUnused { get; init; } = MaxUnused.Default;

    /// <summary>Plan and report only: the repository is not changed (stale locks stay, too).</summary>
    public bool DryRun { get; init; }
}
