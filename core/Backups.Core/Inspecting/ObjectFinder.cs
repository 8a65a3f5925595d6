using Backups.Core.Backends;
using Backups.Core.Indexes;
using Backups.Core.Repositories;
using Backups.Core.Snapshots;
using Backups.Core.Trees;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Inspecting;

/// <summary>Where restic's find --blob or --tree found an object: the file (or directory), the tree that lists
/// it (for a blob), and the snapshot.</summary>
public sealed record FoundObject(string Kind, Id Id, string Path, Id? ParentTree, Snapshot Snapshot);

/// <summary>
/// restic 0.14's find --blob, --tree and --pack: the files whose content holds a blob, or the directories whose
/// tree is one, snapshot by snapshot. An id is written whole or as its 8-character short form; a short one, once
/// matched, stands for that blob only (as restic swaps in the full id). With trees only, a snapshot's search
/// ends once as many trees were found (over all snapshots so far) as were asked for, as restic's does.
/// </summary>
public sealed class ObjectFinder
{
    private readonly Repo _repo;
    private readonly HashSet<string>? _blobs;
    private readonly HashSet<string>? _trees;
    private int _treesFound;

    private ObjectFinder(Repo repo, HashSet<string>? blobs, HashSet<string>? trees) => (_repo, _blobs, _trees) = (repo, blobs, trees);

    public static ObjectFinder ForBlobs(Repo repo, IEnumerable<string> ids) => new(repo, new HashSet<string>(ids, StringComparer.Ordinal), null);

    public static ObjectFinder ForTrees(Repo repo, IEnumerable<string> ids) => new(repo, null, new HashSet<string>(ids, StringComparer.Ordinal));

    /// <summary>The blobs of the packs named (restic's --pack), from the index; packs nobody knows are an error.</summary>
    public static async Task<ObjectFinder> ForPacksAsync(Repo repo, IReadOnlyList<string> ids, CancellationToken ct)
    {
        var missing = new HashSet<string>(ids, StringComparer.Ordinal);
        var blobs = new HashSet<string>(StringComparer.Ordinal);
        var names = new List<string>();
        await foreach (var (name, _) in repo.Backend.ListAsync(FileKind.Index, ct)) names.Add(name);
        // Entries are read straight from each file's JSON (IndexEntries), never as an object per blob: the pack
        // callback's number only tells whether its blobs are wanted.
        const int Wanted = 1;
        foreach (var name in names)
        {
            var file = RepositoryFiles.Index.Named(name);
            IndexEntries.Read(await repo.OpenUnpackedAsync(file, ct), pack =>
            {
                if (!Named(ids, pack)) return 0;
                missing.Remove(pack.ToString());
                missing.Remove(pack.Short);
                return Wanted;
            }, blob =>
            {
                if (blob.Pack == Wanted) blobs.Add(blob.Id.ToString());
            });
        }
        if (missing.Count > 0)
            throw new RepositoryException(ErrorKind.NotFound, $"unable to find pack(s): [{string.Join(' ', missing.Order(StringComparer.Ordinal))}]");
        return new ObjectFinder(repo, blobs, null);
    }

    public async Task FindAsync(Snapshot snapshot, Action<FoundObject> onFound, CancellationToken ct)
    {
        var done = false;
        await new RepositoryWalker(_repo).WalkAsync(snapshot.Tree, (path, node, parentTree) =>
        {
            if (done) return new Visit(false, SkipChildren: true);
            if (node.Type == Node.Dir && _trees != null && node.Subtree is { } tree && Named(_trees, tree))
            {
                onFound(new FoundObject("tree", tree, path, null, snapshot));
                done = ++_treesFound >= _trees.Count && _blobs == null;
            }
            if (node.Type == Node.File && _blobs != null)
                foreach (var blob in node.Content ?? [])
                    if (Take(_blobs, blob)) onFound(new FoundObject("blob", blob, path, parentTree, snapshot));
            return Visit.Continue;
        }, ct);
    }

    private static bool Named(IEnumerable<string> ids, Id id) => ids.Contains(id.ToString()) || ids.Contains(id.Short);

    /// <summary>Whether the blob is asked for, whole or short; a short form that matches is replaced by the whole id.</summary>
    private static bool Take(HashSet<string> wanted, Id id)
    {
        var full = id.ToString();
        if (wanted.Contains(full)) return true;
        if (!wanted.Remove(id.Short)) return false;
        wanted.Add(full);
        return true;
    }
}
