using Backups.Core.FileSystem;
using Backups.Core.Trees;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Inspecting;

/// <summary>One changed path as restic's diff prints it: modifier "+", "-", "M", "T", "U" (or "TM", ...); a
/// directory's path ends in "/".</summary>
public readonly record struct DiffChange(string Path, string Modifier);

/// <summary>Counts of one side of a diff (restic's DiffStat).</summary>
public sealed class DiffSide
{
    public int Files { get; set; }
    public int Dirs { get; set; }
    public int Others { get; set; }
    public int DataBlobs { get; set; }
    public int TreeBlobs { get; set; }
    public ulong Bytes { get; set; }

    public void Add(Node node)
    {
        if (node.Type == Node.File) Files++;
        else if (node.Type == Node.Dir) Dirs++;
        else Others++;
    }
}

public sealed record DiffStats(int ChangedFiles, DiffSide Added, DiffSide Removed);

/// <summary>
/// restic 0.14's diff of two snapshots: the changes in name order, and what was added and removed (entries,
/// blobs only one side references, and their plaintext bytes). The index must be loaded.
/// </summary>
public sealed class SnapshotDiff(Repo repo, bool metadata, Action<DiffChange> report)
{
    private readonly HashSet<(Id, BlobType)> _before = [], _after = [], _common = [];
    private int _changedFiles;
    private readonly DiffSide _added = new(), _removed = new();

    public async Task<DiffStats> CompareAsync(Id tree1, Id tree2, CancellationToken ct)
    {
        _before.Add((tree1, BlobType.Tree));
        _after.Add((tree2, BlobType.Tree));
        await DiffTreeAsync("/", tree1, tree2, ct);
        var both = _before.Intersect(_after).ToHashSet();
        Count(_before.Where(b => !both.Contains(b) && !_common.Contains(b)), _removed);
        Count(_after.Where(b => !both.Contains(b) && !_common.Contains(b)), _added);
        return new DiffStats(_changedFiles, _added, _removed);
    }

    private void Count(IEnumerable<(Id Id, BlobType Type)> blobs, DiffSide side)
    {
        foreach (var (id, type) in blobs)
        {
            if (type == BlobType.Data) side.DataBlobs++;
            else side.TreeBlobs++;
            // As restic: a blob missing from the index counts without bytes.
            if (repo.Index.TryGet(type, id, out var loc)) side.Bytes += (ulong)loc.PlaintextLength;
        }
    }

    private static void AddBlobs(HashSet<(Id, BlobType)> set, Node? node)
    {
        if (node == null) return;
        if (node.Type == Node.File) foreach (var blob in node.Content ?? []) set.Add((blob, BlobType.Data));
        else if (node.Type == Node.Dir && node.Subtree is { } sub) set.Add((sub, BlobType.Tree));
    }

    private static string Named(string prefix, Node node) =>
        FileName.Join(prefix.TrimEnd('/') is "" ? "/" : prefix.TrimEnd('/'), node.Name) + (node.Type == Node.Dir ? "/" : "");

    private async Task DiffTreeAsync(string prefix, Id id1, Id id2, CancellationToken ct)
    {
        var nodes1 = (await TreeJson.LoadAsync(repo, id1, ct)).Nodes.ToDictionary(n => n.Name, StringComparer.Ordinal);
        var nodes2 = (await TreeJson.LoadAsync(repo, id2, ct)).Nodes.ToDictionary(n => n.Name, StringComparer.Ordinal);
        var names = nodes1.Keys.Union(nodes2.Keys).ToList();
        names.Sort(FileName.Compare);
        foreach (var name in names)
        {
            nodes1.TryGetValue(name, out var node1);
            nodes2.TryGetValue(name, out var node2);
            AddBlobs(_before, node1);
            AddBlobs(_after, node2);
            if (node1 != null && node2 != null) await CompareAsync(prefix, node1, node2, ct);
            else if (node1 != null) await ListAsync("-", _removed, _before, prefix, node1, ct);
            else await ListAsync("+", _added, _after, prefix, node2!, ct);
        }
    }

    private async Task CompareAsync(string prefix, Node node1, Node node2, CancellationToken ct)
    {
        var path = Named(prefix, node2);
        var modifier = node1.Type != node2.Type ? "T" : "";
        if (node1.Type == Node.File && node2.Type == Node.File && !NodeEquality.SameContent(node1.Content, node2.Content))
        {
            modifier += "M";
            _changedFiles++;
        }
        else if (metadata && !NodeEquality.Equal(node1, node2)) modifier += "U";
        if (modifier != "") report(new DiffChange(path, modifier));
        if (node1.Type == Node.Dir && node2.Type == Node.Dir && node1.Subtree is { } sub1 && node2.Subtree is { } sub2)
        {
            if (sub1 == sub2) await CollectAsync(_common, sub1, ct);
            else await DiffTreeAsync(path, sub1, sub2, ct);
        }
    }

    /// <summary>A node that only one side has, and everything below it.</summary>
    private async Task ListAsync(string modifier, DiffSide side, HashSet<(Id, BlobType)> blobs, string prefix, Node node, CancellationToken ct)
    {
        var path = Named(prefix, node);
        report(new DiffChange(path, modifier));
        side.Add(node);
        AddBlobs(blobs, node);
        if (node.Type == Node.Dir && node.Subtree is { } sub)
            foreach (var child in (await TreeJson.LoadAsync(repo, sub, ct)).Nodes)
                await ListAsync(modifier, side, blobs, path, child, ct);
    }

    private async Task CollectAsync(HashSet<(Id, BlobType)> blobs, Id tree, CancellationToken ct)
    {
        foreach (var node in (await TreeJson.LoadAsync(repo, tree, ct)).Nodes)
        {
            AddBlobs(blobs, node);
            if (node.Type == Node.Dir && node.Subtree is { } sub) await CollectAsync(blobs, sub, ct);
        }
    }
}
