using System.Runtime.InteropServices;
using Backups.Core.Archiving;
using Backups.Core.Backends;
using Backups.Core.Json;
using Backups.Core.Repository;
using Repo = Backups.Core.Repository.Repository;

namespace Backups.Core.Locks;

/// <summary>
/// restic's lock protocol: a lock file in locks/, refreshed every 5 minutes (new file first, then the old one
/// removed); others treat a lock as stale after 30 minutes without refresh, or at once when it belongs to a
/// process that no longer runs on this host. Backups share the repository; prune takes it alone.
/// </summary>
public sealed class RepositoryLock : IAsyncDisposable
{
    public static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(30);
    public static readonly TimeSpan RefreshEvery = TimeSpan.FromMinutes(5);
    // restic waits a moment after writing its lock and looks again, to catch a lock written at the same time.
    private static readonly TimeSpan SettleDelay = TimeSpan.FromMilliseconds(200);

    // restic tells whether the holder of a lock on this host still runs by sending it SIGHUP (`restic unlock`
    // does, in every version) and ignores SIGHUP itself once it holds a lock. So must we: by default .NET ends on
    // SIGHUP, so a `restic unlock` beside a running backup would kill it and leave its lock behind.
    private static readonly Lazy<PosixSignalRegistration> IgnoreHangup =
        new(() => PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => c.Cancel = true));

    private readonly Repo _repo;
    private readonly LockFile _lock;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _refresher;
    private Id _current;

    private RepositoryLock(Repo repo, LockFile file, Id id)
    {
        _repo = repo;
        _lock = file;
        _current = id;
        _refresher = RefreshLoopAsync();
    }

    public static async Task<RepositoryLock> AcquireAsync(Repo repo, bool exclusive, CancellationToken ct = default)
    {
        await EnsureNoConflictAsync(repo, exclusive, null, ct);
        _ = IgnoreHangup.Value;
        var file = new LockFile
        {
            Time = DateTimeOffset.Now,
            Exclusive = exclusive,
            Hostname = Environment.MachineName,
            Username = Environment.UserName,
            Pid = Environment.ProcessId,
            Uid = UnixNames.CurrentUid,
            Gid = UnixNames.CurrentGid,
        };
        var id = await SaveAsync(repo, file, ct);
        try
        {
            await Task.Delay(SettleDelay, ct);
            await EnsureNoConflictAsync(repo, exclusive, id, ct);
        }
        catch
        {
            await repo.Backend.RemoveAsync(new FileHandle(FileKind.Lock, id.ToString()), CancellationToken.None);
            throw;
        }
        return new RepositoryLock(repo, file, id);
    }

    private static Task<Id> SaveAsync(Repo repo, LockFile file, CancellationToken ct) =>
        repo.SaveUnpackedAsync(FileKind.Lock, RepositoryJson.Serialize(file, RepositoryJson.Context.LockFile), ct);

    private static async Task EnsureNoConflictAsync(Repo repo, bool exclusive, Id? own, CancellationToken ct)
    {
        await foreach (var (other, id) in ListAsync(repo, ct))
        {
            if (id == own || IsStale(other)) continue;
            if (exclusive || other.Exclusive)
                throw new RepositoryException(ErrorKind.Locked,
                    $"the repository is locked {(other.Exclusive ? "exclusively " : "")}by PID {other.Pid} on {other.Hostname} since {other.Time:u} (lock {id.Short})");
        }
    }

    /// <summary>Every readable lock; one that vanished or cannot be read is skipped, as restic does.</summary>
    public static async IAsyncEnumerable<(LockFile Lock, Id Id)> ListAsync(Repo repo, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        var names = new List<string>();
        await foreach (var (name, _) in repo.Backend.ListAsync(FileKind.Lock, ct)) names.Add(name);
        foreach (var name in names)
        {
            if (!Id.TryParse(name, out var id)) continue;
            LockFile file;
            try
            {
                var json = await repo.LoadUnpackedAsync(new FileHandle(FileKind.Lock, name), ct);
                file = RepositoryJson.Deserialize(json, RepositoryJson.Context.LockFile, $"locks/{name}");
            }
            catch (Exception e) when (e is FileNotFoundInBackendException or RepositoryException)
            {
                continue;
            }
            yield return (file, id);
        }
    }

    public static bool IsStale(LockFile l)
    {
        if (DateTimeOffset.Now - l.Time > StaleAfter) return true;
        return l.Hostname == Environment.MachineName && l.Pid > 0 && !Directory.Exists($"/proc/{l.Pid}");
    }

    private async Task RefreshLoopAsync()
    {
        try
        {
            while (true)
            {
                await Task.Delay(RefreshEvery, _stop.Token);
                _lock.Time = DateTimeOffset.Now;
                var fresh = await SaveAsync(_repo, _lock, _stop.Token);
                var old = _current;
                _current = fresh;
                await _repo.Backend.RemoveAsync(new FileHandle(FileKind.Lock, old.ToString()), _stop.Token);
            }
        }
        catch (OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _refresher;
        await _repo.Backend.RemoveAsync(new FileHandle(FileKind.Lock, _current.ToString()));
        _stop.Dispose();
    }
}
