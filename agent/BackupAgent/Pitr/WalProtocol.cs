using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Backups.Core;
using Backups.Core.Wal;

namespace BackupAgent.Pitr;

/// <summary>
/// What `wal-push` and `wal-fetch` (run by PostgreSQL as the database's user) say to the archiver (run as root,
/// the only holder of the repository's key) over its Unix socket. One request a connection:
/// "PUSH NAME LENGTH SHA256 WRITTEN\n" (WRITTEN: the file's mtime in Unix milliseconds, when PostgreSQL finished it;
/// the archiver records it as what a recovery from the file reaches at most), answered "OK\n" once the file is durably in the repository, or "SEND\n" when the
/// archiver must see the bytes (it knows no hash of what it stored under that name), which the client then sends
/// and which are answered the same way; "FETCH NAME\n", answered "OK LENGTH\n" and the bytes, or "MISSING\n";
/// any failure is "ERR MESSAGE\n". The hash goes first because the archiver has usually stored the segment
/// already, reading ahead in pg_wal: then OK costs no 16 MiB transfer. The client sends the file's bytes (not its
/// path) so that the archiver never reads a file for another user on a client's word.
/// </summary>
public static class WalProtocol
{
    public const string DefaultSocket = "/run/backup-agent/wal.sock";
    private const int MaxLine = 256;

    public static async Task<string> ReadLineAsync(Stream stream, CancellationToken ct)
    {
        var line = new StringBuilder();
        var one = new byte[1];
        while (true)
        {
            if (await stream.ReadAsync(one, ct) == 0) throw new IOException("the connection closed mid-request");
            if (one[0] == '\n') return line.ToString();
            if (line.Length == MaxLine) throw new IOException("request line too long");
            line.Append((char)one[0]);
        }
    }

    public static Task WriteLineAsync(Stream stream, string line, CancellationToken ct) =>
        stream.WriteAsync(Encoding.UTF8.GetBytes(line.Replace('\n', ' ') + "\n"), ct).AsTask();

    public static async Task<byte[]> ReadContentAsync(Stream stream, string length, CancellationToken ct)
    {
        var content = new byte[ParseLength(length)];
        await stream.ReadExactlyAsync(content, ct);
        return content;
    }

    private static long ParseLength(string length) =>
        long.TryParse(length, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= WalArchive.MaxFileLength ? n
            : throw new IOException($"bad length '{length}'");

    public static async Task<Socket> ConnectAsync(string socketPath, CancellationToken ct)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct);
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new WalArchiverException($"the WAL archiver is not reachable at {socketPath} ({e.SocketErrorCode}): is backup-agent-wal.service running?");
        }
    }

    /// <summary>Offers a file by its hash, and sends its bytes if asked; returns once the archiver has stored it,
    /// throws with its reason otherwise.</summary>
    public static async Task PushAsync(string socketPath, WalFileName name, string path, CancellationToken ct)
    {
        await using var file = new FileStream(path, new FileStreamOptions { Options = FileOptions.SequentialScan, BufferSize = 0 });
        var length = file.Length;
        var written = new DateTimeOffset(File.GetLastWriteTimeUtc(file.SafeFileHandle)).ToUnixTimeMilliseconds();
        var hash = await HashAsync(file, ct);
        using var socket = await ConnectAsync(socketPath, ct);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await WriteLineAsync(stream, $"PUSH {name} {length} {hash} {written}", ct);
        var answer = await ReadLineAsync(stream, ct);
        if (answer == "SEND")
        {
            file.Position = 0;
            await file.CopyToAsync(stream, 1 << 20, ct);
            answer = await ReadLineAsync(stream, ct);
        }
        if (answer != "OK") throw new WalArchiverException(answer.StartsWith("ERR ", StringComparison.Ordinal) ? answer[4..] : $"unexpected answer '{answer}'");
    }

    private static async Task<Id> HashAsync(Stream file, CancellationToken ct)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        for (int n; (n = await file.ReadAsync(buffer, ct)) > 0;) hash.AppendData(buffer, 0, n);
        return new Id(hash.GetHashAndReset());
    }

    /// <summary>A PUSH's WRITTEN field; a push without one (a wal-push older than its archiver) counts as written now.</summary>
    public static DateTimeOffset ParseWritten(string[] request) =>
        request.Length < 5 ? DateTimeOffset.Now
        : long.TryParse(request[4], NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : throw new IOException($"bad time '{request[4]}'");

    public static Id ParseHash(string hash) => Id.TryParse(hash, out var id) ? id : throw new IOException($"bad hash '{hash}'");

    /// <summary>Asks the client for the bytes it offered and checks them against the hash it sent.</summary>
    public static async Task<byte[]> RequestContentAsync(Stream stream, WalFileName name, string length, Id hash, CancellationToken ct)
    {
        await WriteLineAsync(stream, "SEND", ct);
        var content = await ReadContentAsync(stream, length, ct);
        if (Id.Hash(content) != hash) throw new IOException($"{name} changed while it was pushed");
        return content;
    }

    /// <summary>Copies a file into <paramref name="destination"/> as it arrives (a segment is never held whole);
    /// false when the archive does not hold it.</summary>
    public static async Task<bool> FetchAsync(string socketPath, WalFileName name, Stream destination, CancellationToken ct)
    {
        using var socket = await ConnectAsync(socketPath, ct);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await WriteLineAsync(stream, $"FETCH {name}", ct);
        var answer = await ReadLineAsync(stream, ct);
        if (answer == "MISSING") return false;
        if (!answer.StartsWith("OK ", StringComparison.Ordinal))
            throw new WalArchiverException(answer.StartsWith("ERR ", StringComparison.Ordinal) ? answer[4..] : $"unexpected answer '{answer}'");
        var buffer = new byte[1 << 20];
        for (var left = ParseLength(answer[3..]); left > 0;)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(left, buffer.Length)), ct);
            if (n == 0) throw new WalArchiverException($"the archiver closed the connection with {left} bytes of {name} still to come");
            await destination.WriteAsync(buffer.AsMemory(0, n), ct);
            left -= n;
        }
        return true;
    }
}

/// <summary>The archiver could not be reached or refused a file: PostgreSQL keeps the segment and tries again.</summary>
public sealed class WalArchiverException(string message)
    : Backups.Core.Repositories.ClassifiedException(Backups.Core.Repositories.ErrorKind.Unavailable, message);
