using Backups.Core.Backends;
using Backups.Core.Json;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Repositories;

/// <summary>A key file as `key list` shows it: its id, whether it opened this repository, and its metadata.</summary>
public sealed record KeyListing(Id Id, bool Current, KeyFile Key);

/// <summary>
/// restic's key management: list, add a key for a new password (the same master key, so everything stays
/// readable), remove a key other than the one in use, change the password (add, check, remove the old).
/// The caller holds restic's lock (non-exclusive to list and add, exclusive to remove and change).
/// </summary>
public static class RepositoryKeys
{
    public static async Task<List<KeyListing>> ListAsync(Repo repo, Action<RepositoryException> onDamaged, CancellationToken ct = default)
    {
        var keys = new List<KeyListing>();
        await foreach (var (name, size) in repo.Backend.ListAsync(FileKind.Key, ct))
        {
            if (!Id.TryParse(name, out var id)) continue;
            try
            {
                keys.Add(new KeyListing(id, name == repo.KeyName, await LoadAsync(repo, name, size, ct)));
            }
            catch (RepositoryException e) when (e.Kind == ErrorKind.Damaged)
            {
                onDamaged(e);
            }
        }
        return keys;
    }

    /// <summary>Writes a key for <paramref name="password"/> as restic writes one (plain JSON named by its hash) and
    /// proves that it opens the master key; a key that does not is removed again.</summary>
    public static async Task<Id> AddAsync(Repo repo, string password, string? username = null, string? hostname = null, CancellationToken ct = default)
    {
        if (password.Length == 0) throw new RepositoryException(ErrorKind.InvalidArgument, "empty passwords are not allowed");
        var json = RepositoryJson.Serialize(KeyFile.Create(repo.Key, password, username, hostname), RepositoryJson.Context.KeyFile);
        var id = Id.Hash(json);
        var file = new FileHandle(FileKind.Key, id.ToString());
        await repo.Backend.SaveAsync(file, json, ct);
        var opened = (await LoadAsync(repo, id.ToString(), json.Length, ct)).TryOpen(password, file.ToString());
        if (opened == null || !opened.EncryptionKey.SequenceEqual(repo.Key.EncryptionKey))
        {
            await repo.Backend.RemoveAsync(file, ct);
            throw new RepositoryException(ErrorKind.Damaged, $"the new key {file} does not open the repository; it was removed again");
        }
        return id;
    }

    /// <summary>Removes the key named by an id or unique prefix; never the one this repository was opened with.</summary>
    public static async Task<Id> RemoveAsync(Repo repo, string name, CancellationToken ct = default)
    {
        var id = await FindAsync(repo, name, ct);
        if (id.ToString() == repo.KeyName)
            throw new RepositoryException(ErrorKind.InvalidArgument, "refusing to remove the key currently used to access the repository");
        await repo.Backend.RemoveAsync(new FileHandle(FileKind.Key, id.ToString()), ct);
        return id;
    }

    /// <summary>restic's `key passwd`: a key for the new password first, the old one removed only once it works.</summary>
    public static async Task<Id> ChangePasswordAsync(Repo repo, string newPassword, CancellationToken ct = default)
    {
        var id = await AddAsync(repo, newPassword, ct: ct);
        await repo.Backend.RemoveAsync(new FileHandle(FileKind.Key, repo.KeyName), ct);
        return id;
    }

    private static async Task<Id> FindAsync(Repo repo, string prefix, CancellationToken ct)
    {
        var found = new List<Id>();
        await foreach (var (name, _) in repo.Backend.ListAsync(FileKind.Key, ct))
            if (name.StartsWith(prefix, StringComparison.Ordinal) && Id.TryParse(name, out var id)) found.Add(id);
        return found.Count switch
        {
            1 when prefix.Length > 0 => found[0],
            0 or 1 => throw new RepositoryException(ErrorKind.NotFound, $"no key with id '{prefix}'"),
            _ => throw new RepositoryException(ErrorKind.NotFound, $"'{prefix}' matches {found.Count} keys; give more of the id"),
        };
    }

    private static async Task<KeyFile> LoadAsync(Repo repo, string name, long size, CancellationToken ct)
    {
        var file = new FileHandle(FileKind.Key, name);
        if (size > Repo.MaxKeyFileSize)
            throw new RepositoryException(ErrorKind.Damaged, $"{file} is damaged: {size} bytes is far too big for a key file");
        return RepositoryJson.Deserialize(await repo.Backend.LoadAsync(file, ct: ct), RepositoryJson.Context.KeyFile, file.ToString());
    }
}
