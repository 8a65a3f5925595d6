using System.Globalization;
using System.Text.Json;
using Backups.Core.Backends;
using Backups.Core.Compression;
using Backups.Core.Repositories;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Reporting;

/// <summary>
/// Keeps the <see cref="RunHistory"/> in the repository's status/ folder, which restic never reads (its `check`,
/// `prune` and `copy` list only their own folders), encrypted with the repository's key like every other file in
/// it (source names and errors are nobody else's business) and compressed.
/// </summary>
/// <remarks>
/// Each write is a new generation, status/history-NNNNNNNNNN, never a rewrite: a write that fails leaves the
/// previous generation as it was, and on S3 the create-only PUT makes two concurrent writers of the same
/// generation collide, so the later one reads again and adds its run to the winner's. The newest two generations
/// are kept: a newest one that does not read (damage) falls back to the one before it.
/// </remarks>
public static class RunHistoryStore
{
    private const string Prefix = "history-";
    private const int Attempts = 3;

    /// <summary>The newest history that reads, or null when none has been written yet.</summary>
    /// <exception cref="RepositoryException">Every generation is damaged.</exception>
    public static async Task<RunHistory?> LoadAsync(Repo repo, CancellationToken ct) => (await LoadNewestAsync(repo, ct)).History;

    /// <summary>Reads the newest history (or starts one), applies <paramref name="change"/> and stores the result as
    /// the next generation; then removes all but the newest two. Returns the stored history.</summary>
    public static async Task<RunHistory> UpdateAsync(Repo repo, Action<RunHistory> change, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            var (history, generations) = await LoadNewestAsync(repo, ct);
            history ??= new RunHistory();
            change(history);
            var next = generations.Count == 0 ? 1 : generations[0] + 1;
            try
            {
                await repo.Backend.SaveAsync(Named(next), Seal(repo, history), ct);
            }
            catch (RepositoryException e) when (e.Kind == ErrorKind.OverwriteRefused && attempt < Attempts)
            {
                continue; // another run wrote this generation first: add ours to it
            }
            foreach (var old in generations.Skip(1)) await RemoveAsync(repo, old, ct);
            return history;
        }
    }

    private static FileHandle Named(long generation) =>
        new(FileKind.Status, Prefix + generation.ToString("D10", CultureInfo.InvariantCulture));

    /// <summary>The newest generation that reads, and every generation's number, newest first.</summary>
    private static async Task<(RunHistory? History, List<long> Generations)> LoadNewestAsync(Repo repo, CancellationToken ct)
    {
        var generations = new List<long>();
        await foreach (var (name, _) in repo.Backend.ListAsync(FileKind.Status, ct))
            if (name.StartsWith(Prefix, StringComparison.Ordinal)
                && long.TryParse(name.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var generation))
                generations.Add(generation);
        generations.Sort((a, b) => b.CompareTo(a));
        RepositoryException? damage = null;
        foreach (var generation in generations.Take(2))
        {
            try
            {
                return (Open(repo, Named(generation), await repo.Backend.LoadAsync(Named(generation), ct: ct)), generations);
            }
            catch (RepositoryException e) when (e.Kind == ErrorKind.Damaged)
            {
                damage ??= e;
            }
        }
        return damage == null ? (null, generations) : throw damage;
    }

    private static byte[] Seal(Repo repo, RunHistory history) =>
        repo.Key.Seal(Zstd.Compress(JsonSerializer.SerializeToUtf8Bytes(history, RunHistoryJson.Default.RunHistory)));

    private static RunHistory Open(Repo repo, FileHandle file, byte[] stored)
    {
        var plain = repo.Open(stored, file.ToString());
        try
        {
            return JsonSerializer.Deserialize(Zstd.Decompress(plain).Span, RunHistoryJson.Default.RunHistory) ?? throw new JsonException("null");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new RepositoryException(ErrorKind.Damaged, $"{file} is damaged: {e.Message}", e);
        }
    }

    /// <summary>An old generation that stays (no delete permission, the store out of reach) costs a few KiB and
    /// is removed by the next write; the history itself is already stored.</summary>
    private static async Task RemoveAsync(Repo repo, long generation, CancellationToken ct)
    {
        try
        {
            await repo.Backend.RemoveAsync(Named(generation), ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
        }
    }
}
