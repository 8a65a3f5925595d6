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
/// compared by its bytes, whatever its chunks, the same bytes accepted and others refused. `wal-fetch` tells the end
/// of the archive from an archive it cannot read, in the exit codes PostgreSQL reads.
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
        var config = await ConfigAsync(path);
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

    /// <summary>What a recovery from a file can reach is the moment PostgreSQL finished it: a backlog archived hours
    /// late (after an outage) must not make the archive look newer to pitr's checks and to the Freshness step.</summary>
    [Fact]
    public async Task The_archive_records_when_postgresql_finished_each_file_not_when_it_was_archived()
    {
        var path = _dir.Combine("repo");
        await Repo.InitAsync(new LocalBackend(path), Repositories.Password);
        var config = await ConfigAsync(path);
        var socket = _dir.Combine("wal.sock");
        var agent = new Agent(path, Repositories.Password);
        var pushed = WalHistory.Segment(1);
        var ahead = WalHistory.Segment(2);
        var pushedWritten = DateTime.UtcNow.AddHours(-3);
        var aheadWritten = DateTime.UtcNow.AddHours(-2);
        var wal = Directory.CreateDirectory(_dir.Combine("pgdata", "pg_wal", "archive_status")).Parent!.FullName;
        await File.WriteAllBytesAsync(Path.Combine(wal, ahead.Name), WalHistory.Content(2));
        File.SetLastWriteTimeUtc(Path.Combine(wal, ahead.Name), aheadWritten);
        await File.WriteAllTextAsync(Path.Combine(wal, "archive_status", ahead.Name + ".ready"), "");

        using (await Archiver.StartAsync(config, socket, _dir.Combine("pgdata")))
        {
            var file = _dir.Combine(pushed.Name);
            await File.WriteAllBytesAsync(file, WalHistory.Content(1));
            File.SetLastWriteTimeUtc(file, pushedWritten);
            Assert.Equal(0, (await agent.RunAsync(["wal-push", "--socket", socket, file])).ExitCode);
            // The file in pg_wal is stored ahead of any push.
            for (var i = 0; !(await LoadArchiveAsync(path)).Files.ContainsKey(ahead.Name); i++)
            {
                Assert.True(i < 100, "the ready file in pg_wal was not stored ahead");
                await Task.Delay(200);
            }
        }

        var archive = await LoadArchiveAsync(path);
        Assert.InRange(archive.Files[pushed.Name].Written - pushedWritten, TimeSpan.FromMilliseconds(-1), TimeSpan.FromMilliseconds(1));
        Assert.Equal(aheadWritten, archive.Files[ahead.Name].Written.UtcDateTime);
    }

    private static async Task<WalArchive> LoadArchiveAsync(string path)
    {
        var repo = await Repo.OpenAsync(new LocalBackend(path), Repositories.Password);
        await repo.LoadIndexAsync(default);
        return await WalArchive.LoadAsync(repo, Source, await repo.LoadSnapshotsAsync(default), default);
    }

    private async Task<string> ConfigAsync(string repository)
    {
        var config = _dir.Combine("config.json");
        await File.WriteAllTextAsync(config, $$"""
            { "repository": "{{repository}}", "password": { "value": "{{Repositories.Password}}" },
              "sources": [ { "name": "{{Source}}", "kind": "postgres-cluster", "host": "127.0.0.1", "port": 5432, "user": "postgres",
                             "password": { "value": "unused" } } ] }
            """);
        return config;
    }

    [Fact]
    public async Task Wal_fetch_exits_14_at_the_end_of_the_archive_and_above_125_when_the_archive_cannot_be_read()
    {
        var path = _dir.Combine("repo");
        await Repo.InitAsync(new LocalBackend(path), Repositories.Password);
        var config = await ConfigAsync(path);
        var socket = _dir.Combine("wal.sock");
        var agent = new Agent(path, Repositories.Password);
        var segment = WalHistory.Segment(1);
        var content = Content(3, 1 << 20);
        var destination = _dir.Combine("RECOVERYXLOG");
        Task<ProcessResult> FetchAsync(string name) => agent.RunAsync(["wal-fetch", "--socket", socket, name, destination]);
        async Task AssertRecoveryStopsAsync(ProcessResult fetch, string why)
        {
            // PostgreSQL aborts recovery on an exit status above 125; any lower one reads as "no such file".
            Assert.True(fetch.ExitCode == 126, $"{why}: exit {fetch.ExitCode}, {fetch.Stderr}");
            Assert.Contains("recovery must stop", fetch.Stderr);
            Assert.False(File.Exists(destination), why);
        }

        await AssertRecoveryStopsAsync(await FetchAsync(segment.Name), "no archiver listens");
        using (await Archiver.StartAsync(config, socket))
        {
            Assert.Equal(0, (await PushAsync(agent, socket, segment, content)).ExitCode);
            Assert.Equal(0, (await FetchAsync(segment.Name)).ExitCode);
            Assert.Equal(content, await File.ReadAllBytesAsync(destination));
            File.Delete(destination);
            foreach (var missing in new[] { WalHistory.Segment(2).Name, "00000002.history" })
            {
                var end = await FetchAsync(missing);
                Assert.True(end.ExitCode == 14, $"{missing}: exit {end.ExitCode}, {end.Stderr}");
                Assert.False(File.Exists(destination));
            }
            await AssertRecoveryStopsAsync(await agent.RunAsync(["wal-fetch", "--socket", socket, segment.Name]), "no destination given");

            foreach (var pack in Directory.EnumerateFiles(Path.Combine(path, "data"), "*", SearchOption.AllDirectories)) File.Delete(pack);
            await AssertRecoveryStopsAsync(await FetchAsync(segment.Name), "the segment's pack is gone");
        }
        Assert.Empty(Directory.EnumerateFiles(_dir.Path, "*.partial-fetch"));
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
        public static async Task<Archiver> StartAsync(string config, string socket, string? pgdata = null)
        {
            var psi = new ProcessStartInfo(Agent.Program) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "archiver", "--config", config, "--socket", socket }) psi.ArgumentList.Add(a);
            if (pgdata != null) foreach (var a in new[] { "--pgdata", pgdata }) psi.ArgumentList.Add(a);
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
