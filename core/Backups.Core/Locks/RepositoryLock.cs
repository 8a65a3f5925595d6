using Backups.Core.FileSystem;
using System.Runtime.InteropServices;
using Backups.Core.Backends;
using Backups.Core.Json;
using Backups.Core.Repositories;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Core.Locks;

/// <summary>
/// restic's lock protocol: a lock file in locks/, refreshed every 5 minutes (new file first, then the old one
/// removed); others treat a lock as stale after 30 minutes without refresh, or at once when it belongs to a
/// process that no longer runs on this host. Backups share the repository; prune takes it alone.
/// A lock is kept honestly (as restic 0.15+): a failed refresh is tried again, and when the lock cannot be
/// refreshed in time for others not to take it for stale, or its file has disappeared (a forced unlock), it is
/// lost: <see cref="HeldLocks"/> then refuses every further write of this process.
/// </summary>
public sealed class RepositoryLock : IAsyncDisposable
{
    /// <summary>Test settings: shorter intervals than restic's, to see a lock lost within seconds, and a longer
    /// settling wait, to write a conflicting lock within it.</summary>
    public const string StaleVariable = "BACKUP_LOCK_STALE_SECONDS", RefreshVariable = "BACKUP_LOCK_REFRESH_SECONDS",
        SettleVariable = "BACKUP_LOCK_SETTLE_SECONDS";

    public static readonly TimeSpan StaleAfter = Durations.FromEnvironment(StaleVariable) ?? TimeSpan.FromMinutes(30);
    public static readonly TimeSpan RefreshEvery = Durations.FromEnvironment(RefreshVariable) ?? TimeSpan.FromMinutes(5);
    // restic waits a moment after writing its lock and looks again, to catch a lock written at the same time.
    private static readonly TimeSpan SettleDelay = Durations.FromEnvironment(SettleVariable) ?? TimeSpan.FromMilliseconds(200);
    // As restic: a lock not refreshed this long before it turns stale for others is given up, which leaves the
    // command time to stop writing before anyone may remove what it wrote.
    private static readonly TimeSpan KeepFor = StaleAfter - RefreshEvery * 1.5 > RefreshEvery ? StaleAfter - RefreshEvery * 1.5 : RefreshEvery;
    // Removal on the way out must not hang on an unreachable store: a lock left behind turns stale on its own.
    private static readonly TimeSpan RemovalBound = TimeSpan.FromMinutes(1);

    // restic tells whether the holder of a lock on this host still runs by sending it SIGHUP (`restic unlock`
    // does, in every version) and ignores SIGHUP itself once it holds a lock. So must we: by default .NET ends on
    // SIGHUP, so a `restic unlock` beside a running backup would kill it and leave its lock behind.
    private static readonly Lazy<PosixSignalRegistration> IgnoreHangup =
        new(() => PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => c.Cancel = true));

    private readonly Repo _repo;
    private readonly LockFile _lock;
    private readonly CancellationTokenSource _stop = new();
    // Refreshes and existence checks one at a time: a check between a refresh's save and its removal of the
    // old file would look for a file that is meant to be gone.
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<Id> _leftovers = [];
    private readonly Task _refresher;
    private Id _current;
    private DateTimeOffset _refreshedAt;
    private volatile RepositoryException? _lost;

    private RepositoryLock(Repo repo, LockFile file, Id id)
    {
        _repo = repo;
        _lock = file;
        _current = id;
        _refreshedAt = file.Time;
        repo.Locks.Add(this);
        _refresher = RefreshLoopAsync();
    }

    /// <summary>Why the lock was lost, or null while it is held.</summary>
    public RepositoryException? Lost => _lost;

    public static async Task<RepositoryLock> AcquireAsync(Repo repo, bool exclusive, CancellationToken ct = default) =>
        await await BeginAsync(repo, exclusive, ct);

    /// <summary>
    /// Writes the lock file once no other lock forbids it, and returns restic's settling look as a task of its own: a
    /// reader may go on meanwhile (<c>SettlingReadLock</c>), since a prune writing its lock at the same moment deletes
    /// nothing before its own settling look finds this one.
    /// </summary>
    public static async Task<Task<RepositoryLock>> BeginAsync(Repo repo, bool exclusive, CancellationToken ct = default)
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
        return SettleAsync(repo, file, await SaveAsync(repo, file, ct), ct);
    }

    private static async Task<RepositoryLock> SettleAsync(Repo repo, LockFile file, Id id, CancellationToken ct)
    {
        try
        {
            await Task.Delay(SettleDelay, ct);
            await EnsureNoConflictAsync(repo, file.Exclusive, id, ct);
        }
        catch
        {
            await RemoveQuietlyAsync(repo, id);
            throw;
        }
        return new RepositoryLock(repo, file, id);
    }

    private static Task<Id> SaveAsync(Repo repo, LockFile file, CancellationToken ct) =>
        repo.SaveFileAsync(RepositoryFiles.Lock, file, ct);

    private static FileHandle FileOf(Id id) => RepositoryFiles.Lock.Named(id);

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
                file = await repo.LoadFileAsync(RepositoryFiles.Lock, name, ct);
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

    /// <summary>Throws (and the lock is lost) when the lock file is no longer in the store.</summary>
    internal async Task EnsureHeldAsync(CancellationToken ct)
    {
        if (_lost is { } lost) throw lost;
        await _gate.WaitAsync(ct);
        try
        {
            if (_lost is { } known) throw known;
            if (await _repo.Backend.StatAsync(FileOf(_current), ct) == null) throw Vanished();
        }
        finally
        {
            _gate.Release();
        }
    }

    private RepositoryException Vanished() => Lose(ErrorKind.Locked,
        $"lock {_current.Short} was removed by another process (a forced unlock?); what this process stored may already be pruned, so nothing more is written");

    /// <summary>The first loss is the one reported (a refresh and an existence check may both find one).</summary>
    private RepositoryException Lose(ErrorKind kind, string message) =>
        Interlocked.CompareExchange(ref _lost, new RepositoryException(kind, message), null) ?? _lost!;

    private async Task RefreshLoopAsync()
    {
        try
        {
            while (_lost == null)
            {
                await Task.Delay(RefreshEvery, _stop.Token);
                await RefreshAsync();
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested) { }
    }

    /// <summary>Writes a fresh lock file and removes the old one, trying again until the lock would be too
    /// old to keep; then the lock is lost.</summary>
    private async Task RefreshAsync()
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        var giveUpAt = _refreshedAt + KeepFor;
        limit.CancelAfter(TimeSpan.FromTicks(Math.Max(0, (giveUpAt - DateTimeOffset.Now).Ticks)));
        await _gate.WaitAsync(_stop.Token);
        try
        {
            Exception? last = null;
            while (!limit.IsCancellationRequested)
            {
                try
                {
                    if (await _repo.Backend.StatAsync(FileOf(_current), limit.Token) == null)
                    {
                        Vanished();
                        return;
                    }
                    var time = DateTimeOffset.Now;
                    _lock.Time = time;
                    var fresh = await SaveAsync(_repo, _lock, limit.Token);
                    var old = _current;
                    (_current, _refreshedAt) = (fresh, time);
                    await RemoveOldAsync(old, limit.Token);
                    return;
                }
                catch (OperationCanceledException) when (limit.IsCancellationRequested) { }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    last = e;
                    try
                    {
                        await Task.Delay(TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(30).Ticks, RefreshEvery.Ticks / 5)), limit.Token);
                    }
                    catch (OperationCanceledException) when (limit.IsCancellationRequested) { }
                }
            }
            _stop.Token.ThrowIfCancellationRequested();
            Lose(ErrorKind.Unavailable,
                $"lock {_current.Short} could not be refreshed since {_refreshedAt:u} ({(last == null ? "the store did not answer in time" : last.Message)}); " +
                "others may soon take it for stale, so nothing more is written");
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>An old lock file that cannot be removed now is removed on the way out (it is fresh enough to
    /// block an exclusive lock meanwhile, which errs on the safe side).</summary>
    private async Task RemoveOldAsync(Id old, CancellationToken ct)
    {
        try
        {
            await _repo.Backend.RemoveAsync(FileOf(old), ct);
        }
        catch (Exception e) when (e is not OperationCanceledException || !_stop.IsCancellationRequested)
        {
            lock (_leftovers) _leftovers.Add(old);
        }
    }

    private static async Task RemoveQuietlyAsync(Repo repo, Id id)
    {
        using var bound = new CancellationTokenSource(RemovalBound);
        try
        {
            await repo.Backend.RemoveAsync(FileOf(id), bound.Token);
        }
        catch (Exception)
        {
            // Left behind: it turns stale by age, or at once for this host once this process has exited.
        }
    }

    /// <summary>Removes the lock. Never throws: it runs on the way out, over a saved snapshot or another error
    /// that must not be hidden.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _refresher;
        _repo.Locks.Remove(this);
        await _gate.WaitAsync();
        Id[] files;
        lock (_leftovers) files = [_current, .. _leftovers];
        foreach (var id in files) await RemoveQuietlyAsync(_repo, id);
        _gate.Release();
        _stop.Dispose();
    }
}
