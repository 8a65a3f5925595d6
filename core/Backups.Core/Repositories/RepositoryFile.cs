using System.Text.Json.Serialization.Metadata;
using Backups.Core.Backends;
using Backups.Core.Indexes;
using Backups.Core.Json;
using Backups.Core.Locks;
using Backups.Core.Snapshots;

namespace Backups.Core.Repositories;

/// <summary>
/// A kind of encrypted JSON file the repository stores under the hash of its bytes, tied once to its folder and its
/// codec (as rustic ties each file type to its kind), so no call pairs them by hand.
/// </summary>
public sealed class RepositoryFile<T>
{
    internal RepositoryFile(FileKind kind, JsonTypeInfo<T> json)
    {
        Kind = kind;
        Json = json;
    }

    public FileKind Kind { get; }
    internal JsonTypeInfo<T> Json { get; }

    public FileHandle Named(string name) => new(Kind, name);
    public FileHandle Named(Id id) => new(Kind, id.ToString());
}

/// <summary>The repository's typed files.</summary>
public static class RepositoryFiles
{
    public static readonly RepositoryFile<Snapshot> Snapshot = new(FileKind.Snapshot, RepositoryJson.Context.Snapshot);
    public static readonly RepositoryFile<IndexFile> Index = new(FileKind.Index, RepositoryJson.Context.IndexFile);
    public static readonly RepositoryFile<LockFile> Lock = new(FileKind.Lock, RepositoryJson.Context.LockFile);
}
