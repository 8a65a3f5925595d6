using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Backups.Core;
using Backups.Core.Archiving;
using Backups.Core.Backends;
using Backups.Core.Chunking;
using Backups.Core.Snapshots;
using Backups.Core.Wal;
using Backups.Tests.Support;
using Xunit;
using Repo = Backups.Core.Repositories.Repository;

namespace Backups.Tests.Pitr;

/// <summary>
/// `wal-push` and the resident archiver, without a server: a push offers the file's hash first; a file the archiver
/// stored itself is acknowledged on the hash alone, and a different file under its name is refused loudly on the
/// hash alone; a file an earlier archiver stored (here in restic's content-defined chunks, as WAL was once cut) is
/// compared by its bytes, whatever its chunks, the same bytes accepted and others refused.
/// </summary>
public sealed class WalPushTests : IDisposable
{
    private const string Source = "cluster";
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_push_offers_the_hash_first_and_a_different_file_under_an_archived_name_fails_loudly()
    {
        var path = _dir.Combine("repo");
        var repo = await Repo.InitAsync(new LocalBackend(path), Repositories.Password, polynomial: Polynomial.Parse("3DA3358B4DC173"));
        // Two restic chunks at the least: the comparison must follow the stored chunks' lengths.
        var earlier = WalHistory.Segment(1);
        var earlierContent = Content(1, 2 * Chunker.DefaultMinSize + (1 << 20));
        Assert.True(await SaveInResticChunksAsync(repo, earlier, earlierContent) > 1, "the earlier segment is stored in one chunk");
        var config = _dir.Combine("config.json");
        await File.WriteAllTextAsync(config, $$"""
            { "repository": "{{path}}", "password": { "value": "{{Repositories.Password}}" },
              "sources": [ { "name": "{{Source}}", "kind": "postgres-cluster", "host": "127.0.0.1", "port": 5432, "user": "postgres",
                             "password": { "value": "unused" } } ] }
            """);
        var socket = _dir.Combine("wal.sock");
        var agent = new Agent(path, Repositories.Password);
        var fresh = WalHistory.Segment(2);
        var freshContent = Content(2, 2 * WalWriter.Pieces.Max + 1000);

        using (await Archiver.StartAsync(config, socket))
        {
            // Archived before this archiver started: the bytes are asked for and compared.
            Assert.Equal(0, (await PushAsync(agent, socket, earlier, earlierContent)).ExitCode);
            await AssertRefusedAsync(agent, socket, earlier, Altered(earlierContent));

            // Stored by this archiver: the hash answers, with no bytes sent either way.
            Assert.Equal(0, (await PushAsync(agent, socket, fresh, freshContent)).ExitCode);
            Assert.Equal("OK", await OfferAsync(socket, fresh, freshContent));
            Assert.StartsWith($"ERR {fresh} is archived already with different content", await OfferAsync(socket, fresh, Altered(freshContent)));
            await AssertRefusedAsync(agent, socket, fresh, Altered(freshContent));

            // What an earlier archiver compared, this one knows by its hash too.
            Assert.Equal("OK", await OfferAsync(socket, earlier, earlierContent));
        }

        using (await Archiver.StartAsync(config, socket))
        {
            // Stored in pieces by the archiver before: compared by its bytes.
            Assert.Equal("SEND", await OfferAsync(socket, fresh, freshContent));
            Assert.Equal(0, (await PushAsync(agent, socket, fresh, freshContent)).ExitCode);
            await AssertRefusedAsync(agent, socket, fresh, Altered(freshContent));
        }

        // Stock restic reads the segment stored in pieces byte for byte.
        var restic = new Restic(path, Repositories.Password);
        await restic.CheckAsync(readData: true);
        var snapshot = (await restic.JsonAsync("snapshots", "--tag", "wal")).EnumerateArray().Last().GetProperty("id").GetString()!;
        using var dumped = new MemoryStream();
        (await restic.RunAsync(["dump", snapshot, fresh.Name], stdout: dumped)).EnsureSuccess("restic dump");
        Assert.Equal(freshContent, dumped.ToArray());
    }

    private static byte[] Content(int seed, int length)
    {
        var content = new byte[length];
        new Random(seed).NextBytes(content);
        return content;
    }

    private static byte[] Altered(byte[] content)
    {
        var altered = content.ToArray();
        altered[^100] ^= 0xFF;
        return altered;
    }

    /// <summary>A WAL snapshot as an earlier archiver wrote one: the file in restic's chunks; returns how many.</summary>
    private static async Task<int> SaveInResticChunksAsync(Repo repo, WalFileName name, byte[] content)
    {
        var stats = new SourceStats();
        await using var session = await BackupSession.StartAsync(repo, 2, 1, default);
        var node = await session.SaveFileAsync(new MemoryStream(content), name.Name, DateTimeOffset.Now, stats, default);
        var tree = await session.SaveTreeAsync([node], stats, default);
        await session.FinishAsync(default);
        await session.WriteSnapshotAsync(BackupSession.NewSnapshot(tree, [PgSnapshots.WalPath(Source)], DateTimeOffset.Now, "box",
            SnapshotSource.Tags(Source, [PgSnapshots.WalTag]), []), default);
        return node.Content!.Count;
    }

    private async Task<ProcessResult> PushAsync(Agent agent, string socket, WalFileName name, byte[] content)
    {
        var file = _dir.Combine(name.Name);
        await File.WriteAllBytesAsync(file, content);
        return await agent.RunAsync(["wal-push", "--socket", socket, file]);
    }

    private async Task AssertRefusedAsync(Agent agent, string socket, WalFileName name, byte[] content)
    {
        var push = await PushAsync(agent, socket, name, content);
        Assert.NotEqual(0, push.ExitCode);
        Assert.Contains("different content", push.Stderr);
    }

    /// <summary>The archiver's first answer to a push offering <paramref name="content"/>'s hash (the bytes are never sent).</summary>
    private static async Task<string> OfferAsync(string socket, WalFileName name, byte[] content)
    {
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await client.ConnectAsync(new UnixDomainSocketEndPoint(socket));
        await using var stream = new NetworkStream(client);
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"PUSH {name} {content.Length} {Id.Hash(content)}\n"));
        return new StreamReader(stream).ReadLine() ?? "";
    }

    /// <summary>The archiver as its systemd unit runs it (no pg_wal to read ahead in), listening once this returns.</summary>
    private sealed class Archiver(Process process, StringBuilder log) : IDisposable
    {
        public static async Task<Archiver> StartAsync(string config, string socket)
        {
            var psi = new ProcessStartInfo(Agent.Program) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "archiver", "--config", config, "--socket", socket }) psi.ArgumentList.Add(a);
            var process = Process.Start(psi)!;
            var log = new StringBuilder();
            process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var archiver = new Archiver(process, log);
            for (var i = 0; ; i++)
            {
                using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await probe.ConnectAsync(new UnixDomainSocketEndPoint(socket));
                    return archiver;
                }
                catch (SocketException) when (i < 300 && !process.HasExited)
                {
                    await Task.Delay(100);
                }
                catch (SocketException)
                {
                    archiver.Dispose();
                    throw new TimeoutException($"the archiver does not listen on {socket}; it said:\n{archiver.Log}");
                }
            }
        }

        private string Log { get { lock (log) return log.ToString(); } }

        public void Dispose()
        {
            if (!process.HasExited) process.Kill();
            process.WaitForExit();
            process.Dispose();
        }
    }
}
