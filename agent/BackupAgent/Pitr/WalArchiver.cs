using System.Net.Sockets;
using System.Threading.Channels;
using BackupAgent.Drills;
using Backups.Core;
using Backups.Core.Repositories;
using Backups.Core.Wal;
using Repo = Backups.Core.Repositories.Repository;

namespace BackupAgent.Pitr;

/// <summary>
/// The resident WAL archiver of one cluster (backup-agent-wal.service, as root): the repository is opened once
/// (one key derivation for the service's life, not one a segment), and `wal-push`/`wal-fetch` talk to it over a
/// Unix socket that only the database's group may use, so the database's user never holds the key.
/// Like pgBackRest's asynchronous archive-push it works ahead of PostgreSQL: every segment PostgreSQL has marked
/// ready (pg_wal/archive_status/*.ready) is queued and stored in batches, in parallel, so that by the time
/// PostgreSQL asks for one it is usually stored already, and its push, which offers the file's hash first, is
/// answered without the bytes. A segment is answered OK only once its pack, the index naming it and a WAL snapshot
/// holding it are stored (<see cref="WalWriter"/>): never before, so that neither a crash nor a prune can lose a
/// segment PostgreSQL has recycled.
/// </summary>
public sealed class WalArchiver(Repo repo, string source, string? host, string? dataDirectory, Action<string> log)
{
    /// <summary>A file on its way into the repository; its batch completes it with the file's SHA-256.</summary>
    private sealed record Pending(WalFile File, TaskCompletionSource<Id> Stored);

    /// <summary>How often the archive_status directory is read for segments to push ahead.</summary>
    public static readonly TimeSpan ScanEvery = TimeSpan.FromMilliseconds(200);
    /// <summary>At most this many files a batch (256 MiB of default segments): a batch's lock, index and snapshot are
    /// shared by many segments, and PostgreSQL, waiting for the first of them, waits for no more than one batch.</summary>
    private const int BatchFiles = 16;
    private static readonly TimeSpan PauseAfterFailure = TimeSpan.FromSeconds(2);

    // Unbounded: what waits in it is bounded by the clients (PostgreSQL pushes one file at a time) and by BatchFiles
    // for the files pushed ahead.
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>();
    private readonly Dictionary<string, Task<Id>> _inFlight = new(StringComparer.Ordinal);
    /// <summary>The SHA-256 of every file this process stored or compared, by name: a push offering the same hash is
    /// answered at once, a different one refused (files archived by an earlier process are compared by content).</summary>
    private readonly Dictionary<string, Id> _hashes = new(StringComparer.Ordinal);
    private int _waiting;
    private readonly Lock _gate = new();
    private WalArchive _archive = new();
    private DateTimeOffset _pausedUntil;
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the socket takes requests: a recovering server started before would find no
    /// archive and give up (or, recovering to the end, stop early).</summary>
    public Task Listening => _listening.Task;

    public async Task RunAsync(string socketPath, string? group, CancellationToken ct)
    {
        await repo.LoadIndexAsync(ct);
        _archive = await WalArchive.LoadAsync(repo, source, await repo.LoadSnapshotsAsync(ct), ct);
        using var listener = await ListenAsync(socketPath, group, ct);
        _listening.TrySetResult();
        log($"archiving WAL of {source} from {socketPath}; {_archive.Files.Count} files archived so far");
        var tasks = new List<Task> { StoreBatchesAsync(ct), AcceptAsync(listener, ct) };
        if (dataDirectory != null) tasks.Add(PushAheadAsync(ct));
        try
        {
            await await Task.WhenAny(tasks);
        }
        finally
        {
            File.Delete(socketPath);
        }
    }

    private static async Task<Socket> ListenAsync(string socketPath, string? group, CancellationToken ct)
    {
        var directory = Path.GetDirectoryName(socketPath)!;
        Directory.CreateDirectory(directory);
        // Made ready under a name of its own and renamed into place: a wal-push that finds the socket then always
        // finds it listening with its final owner and mode (before, one arriving between bind and listen was refused
        // and PostgreSQL waited a second to retry).
        var unready = socketPath + ".new";
        if (File.Exists(unready)) File.Delete(unready);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(unready));
        File.SetUnixFileMode(unready, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
        if (group != null)
            (await ChildProcess.RunAsync("chgrp", [group, unready], null, null, ct)).EnsureSucceeded($"giving the socket to group {group}");
        listener.Listen(64);
        File.Move(unready, socketPath, overwrite: true);
        return listener;
    }

    private async Task AcceptAsync(Socket listener, CancellationToken ct)
    {
        while (true)
        {
            var client = await listener.AcceptAsync(ct);
            _ = Task.Run(() => ServeAsync(client, ct), ct);
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken ct)
    {
        using var _ = client;
        await using var stream = new NetworkStream(client, ownsSocket: false);
        try
        {
            var request = (await WalProtocol.ReadLineAsync(stream, ct)).Split(' ');
            var name = request.Length > 1 ? WalFileName.Parse(request[1]) : throw new IOException("no file named");
            switch (request[0])
            {
                case "PUSH" when request.Length is 4 or 5:
                    var hash = WalProtocol.ParseHash(request[3]);
                    await PushAsync(name, hash, WalProtocol.ParseWritten(request),
                        () => WalProtocol.RequestContentAsync(stream, name, request[2], hash, ct), ct);
                    await WalProtocol.WriteLineAsync(stream, "OK", ct);
                    break;
                case "FETCH" when request.Length == 2:
                    var content = await FetchAsync(name, ct);
                    if (content == null) await WalProtocol.WriteLineAsync(stream, "MISSING", ct);
                    else
                    {
                        await WalProtocol.WriteLineAsync(stream, $"OK {content.Length}", ct);
                        await stream.WriteAsync(content, ct);
                    }
                    break;
                default:
                    throw new IOException("unknown request");
            }
        }
        catch (Exception e) when (e is IOException or ClassifiedException or SocketException)
        {
            log($"request refused: {e.Message}");
            try { await WalProtocol.WriteLineAsync(stream, "ERR " + e.Message, ct); } catch (IOException) { /* the client left */ }
        }
    }

    /// <summary>Returns once the file is stored (now, ahead of PostgreSQL, or by an earlier push of the same bytes); a
    /// different file under a name already archived is refused loudly: PostgreSQL never archives two versions of a
    /// segment. The bytes are asked for (<paramref name="receive"/>) only when no hash of that name is known: a file
    /// never seen, or one an earlier process archived, which is then compared with what is stored.</summary>
    private async Task PushAsync(WalFileName name, Id hash, DateTimeOffset written, Func<Task<byte[]>> receive, CancellationToken ct)
    {
        Id? known;
        Task<Id>? storing;
        ArchivedWal? archived;
        lock (_gate) (known, storing, archived) = Find(name.Name);
        if (known == null && storing == null)
        {
            var content = await receive();
            if (archived != null)
            {
                if (!WalArchive.SameContent(repo, archived, content)) throw Different(name);
                lock (_gate) _hashes[name.Name] = hash;
                return;
            }
            lock (_gate)
            {
                // Pushed ahead meanwhile, or by another client.
                (known, storing, _) = Find(name.Name);
                if (known == null && storing == null) storing = Enqueue(new WalFile(name, content, written));
            }
        }
        // A failed batch throws here, and the client answers PostgreSQL with a failure: it keeps the file and retries.
        if ((known ?? await storing!) != hash) throw Different(name);
    }

    private static WalArchiverException Different(WalFileName name) =>
        new($"{name} is archived already with different content; refusing to replace it");

    /// <summary>What is known of a name: the hash it was stored with, the batch on its way to store it, or the archive
    /// entry of an earlier process (which left no hash); all null for a name never archived. The caller holds the gate.</summary>
    private (Id? Known, Task<Id>? Storing, ArchivedWal? Archived) Find(string name) =>
        _hashes.TryGetValue(name, out var known) ? (known, null, null)
        : _inFlight.TryGetValue(name, out var storing) ? (null, storing, null)
        : (null, null, _archive.Files.GetValueOrDefault(name));

    /// <summary>Queues a file for the next batch; the caller holds the gate.</summary>
    private Task<Id> Enqueue(WalFile file)
    {
        var pending = new Pending(file, new TaskCompletionSource<Id>(TaskCreationOptions.RunContinuationsAsynchronously));
        _inFlight[file.Name.Name] = pending.Stored.Task;
        _waiting++;
        _queue.Writer.TryWrite(pending);
        return pending.Stored.Task;
    }

    /// <summary>Stores what is queued, a batch at a time: one lock, one pack flush, one index and one snapshot for
    /// the files that arrived while the previous batch was being stored (up to <see cref="BatchFiles"/>).</summary>
    private async Task StoreBatchesAsync(CancellationToken ct)
    {
        while (await _queue.Reader.WaitToReadAsync(ct))
        {
            var batch = new List<Pending>();
            while (batch.Count < BatchFiles && _queue.Reader.TryRead(out var p)) batch.Add(p);
            lock (_gate) _waiting -= batch.Count;
            try
            {
                var (snapshot, tree, hashes) = await WalWriter.SaveAsync(repo, source, host, [.. batch.Select(p => p.File)], ct);
                lock (_gate)
                {
                    _archive.Add(tree, snapshot);
                    for (var i = 0; i < batch.Count; i++)
                    {
                        _hashes[batch[i].File.Name.Name] = hashes[i];
                        _inFlight.Remove(batch[i].File.Name.Name);
                    }
                }
                for (var i = 0; i < batch.Count; i++) batch[i].Stored.TrySetResult(hashes[i]);
                log($"stored {string.Join(' ', batch.Select(p => p.File.Name))} as snapshot {snapshot.Id.Short}");
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                lock (_gate)
                    foreach (var p in batch) _inFlight.Remove(p.File.Name.Name);
                foreach (var p in batch) p.Stored.TrySetException(e);
                _pausedUntil = DateTimeOffset.Now + PauseAfterFailure;
                log($"storing {batch.Count} WAL files failed, PostgreSQL will retry: {e.Message}");
            }
        }
    }

    /// <summary>Queues, oldest first, the files PostgreSQL has marked ready, by name: each is read from pg_wal when its
    /// batch is stored (PostgreSQL recycles no segment before archive_command has succeeded for it). One batch
    /// waits while another is stored, so the archiver never idles while PostgreSQL has files ready.</summary>
    private async Task PushAheadAsync(CancellationToken ct)
    {
        var wal = Path.Combine(dataDirectory!, "pg_wal");
        while (true)
        {
            await Task.Delay(ScanEvery, ct);
            if (DateTimeOffset.Now < _pausedUntil) continue;
            string[] ready;
            try
            {
                ready = Directory.GetFiles(Path.Combine(wal, "archive_status"), "*.ready");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }
            foreach (var name in ready.Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal))
            {
                if (!WalFileName.TryParse(name!, out var walName)) continue;
                var path = Path.Combine(wal, walName.Name);
                lock (_gate)
                {
                    if (_waiting >= BatchFiles) break;
                    // A ready file is complete: PostgreSQL writes no more to it, so its mtime now is when it finished it.
                    if (!_archive.Files.ContainsKey(walName.Name) && !_inFlight.ContainsKey(walName.Name))
                        Enqueue(new WalFile(walName, () => new FileStream(path, SequentialRead), new DateTimeOffset(File.GetLastWriteTimeUtc(path))));
                }
            }
        }
    }

    private static readonly FileStreamOptions SequentialRead = new() { Options = FileOptions.SequentialScan, BufferSize = 0 };

    private WalReadAhead? _readAhead;

    /// <summary>An archived file's bytes, or null when the archive does not hold it; read ahead of recovery's requests.</summary>
    private Task<byte[]?> FetchAsync(WalFileName name, CancellationToken ct)
    {
        lock (_gate) _readAhead ??= new WalReadAhead(Find, ReadAsync, ct);
        return _readAhead.FetchAsync(name, ct);
    }

    private ArchivedWal? Find(WalFileName name)
    {
        lock (_gate) return _archive.Files.GetValueOrDefault(name.Name);
    }

    private async Task<byte[]> ReadAsync(ArchivedWal archived, CancellationToken ct)
    {
        try
        {
            return await WalArchive.ReadAsync(repo, archived, ct);
        }
        catch (RepositoryException e) when (e.Kind == ErrorKind.NotFound)
        {
            // A prune since the index was read moved the blobs to other packs.
            await repo.LoadIndexAsync(ct);
            return await WalArchive.ReadAsync(repo, archived, ct);
        }
    }
}
