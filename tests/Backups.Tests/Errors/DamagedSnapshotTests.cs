using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Backups.Core;
using Backups.Core.Backends;
using Backups.Core.Compression;
using Backups.Core.Json;
using Backups.Core.Repositories;
using Backups.Tests.Support;
using Xunit;
using ZstdSharp;

namespace Backups.Tests.Errors;

/// <summary>
/// One snapshot file that cannot be read beside good ones: `snapshots` lists the good ones and warns naming the
/// bad one (as restic does), "latest" is the newest good one (restic 0.14 would fail), `check` still reports it
/// and `forget` refuses to decide without it.
/// The bad file is garbage, or a zstd bomb: a valid snapshot padded to more than the decompression bound, which
/// is refused before it is allocated.
/// </summary>
public sealed class DamagedSnapshotTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Damaged_snapshots_are_left_out_with_a_warning_and_reported_by_check()
    {
        var (repo, latest) = await RepositoryWithTwoSnapshotsAsync();
        string bomb;
        await using (var opened = await Repository.OpenAsync(new LocalBackend(repo.Repository), Repositories.Password))
        {
            var real = (await opened.LoadSnapshotsAsync())[^1];
            real.Time = real.Time.AddDays(1); // the newest: what "latest" would pick if it could be read
            bomb = Plant(repo, opened.Key.Seal(Bomb(SnapshotJsonBytes(real), Zstd.MaxDecompressedLength + (16 << 20))));
        }
        var garbage = Plant(repo, RandomNumberGenerator.GetBytes(300));

        var cat = await repo.Agent.RunAsync(["cat", "snapshot", bomb]);
        Failure.AssertOneLine(cat, Failure.Damaged, $"snapshots/{bomb}");
        Assert.Contains("decompress", cat.Stderr);

        var list = await repo.Agent.RunAsync(["snapshots", "--json"]);
        Assert.True(list.ExitCode == 0, list.Stderr);
        Assert.Equal(2, JsonDocument.Parse(list.Stdout).RootElement.GetArrayLength());
        foreach (var bad in new[] { garbage, bomb }) Assert.Contains($"warning: snapshots/{bad}", list.Stderr);

        var check = await repo.Agent.RunAsync(["check"]);
        Assert.Equal(Failure.Damaged, check.ExitCode);
        foreach (var bad in new[] { garbage, bomb }) Assert.Contains(bad, check.StdoutText + check.Stderr);

        // Deciding what to delete without a snapshot could delete what it needs: forget stops instead.
        var before = RepositoryFiles.Snapshot(repo.Repository);
        Assert.Equal(Failure.Damaged, (await repo.Agent.RunAsync(["forget", "--keep-last", "1"])).ExitCode);
        RepositoryFiles.AssertUnchanged(before, repo.Repository);

        var dump = await repo.Agent.RunAsync(["dump", "latest", "/data.bin"]);
        Assert.True(dump.ExitCode == 0, dump.Stderr);
        Assert.Equal(latest, dump.Stdout);
        Assert.Contains($"snapshots/{bomb}", dump.Stderr);

        var target = _dir.Combine("restored");
        var restore = await repo.Agent.RunAsync(["restore", "latest", "--target", target]);
        Assert.True(restore.ExitCode == 0, restore.Stderr);
        Assert.Equal(latest, File.ReadAllBytes(Path.Combine(target, "data.bin")));
    }

    /// <summary>Stores bytes as a snapshot file named by their hash, as a writer would; returns the id.</summary>
    private static string Plant(RepositoryPair repo, byte[] stored)
    {
        var id = Id.Hash(stored).ToString();
        File.WriteAllBytes(Path.Combine(repo.Repository, "snapshots", id), stored);
        return id;
    }

    private static byte[] SnapshotJsonBytes(Backups.Core.Snapshots.Snapshot s) => RepositoryJson.Serialize(s, RepositoryJson.Context.Snapshot);

    /// <summary>A v2 unpacked file (a 2, then a zstd frame declaring its size) whose JSON is padded with spaces to
    /// <paramref name="length"/> bytes: valid, and a few KiB compressed.</summary>
    private static byte[] Bomb(byte[] json, long length)
    {
        var output = new MemoryStream();
        output.WriteByte(2);
        using (var z = new CompressionStream(output, 1, leaveOpen: true))
        {
            z.SetPledgedSrcSize((ulong)length);
            z.Write(json);
            var spaces = new byte[1 << 20];
            Array.Fill(spaces, (byte)' ');
            for (var left = length - json.Length; left > 0; left -= spaces.Length)
                z.Write(spaces, 0, (int)Math.Min(left, spaces.Length));
        }
        return output.ToArray();
    }

    private async Task<(RepositoryPair Repo, byte[] Latest)> RepositoryWithTwoSnapshotsAsync()
    {
        var repo = new LocalStore(_dir).New();
        await repo.Agent.RunOkAsync("init");
        byte[] latest = [];
        for (var seed = 1; seed <= 2; seed++)
        {
            latest = Encoding.UTF8.GetBytes($"version {seed} of the data\n");
            (await repo.Agent.RunAsync(["backup", "--stdin", "--stdin-filename", "data.bin"], new MemoryStream(latest))).EnsureSuccess("backup --stdin");
        }
        return (repo, latest);
    }
}
