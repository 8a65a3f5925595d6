using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Backups.Core.FileSystem;
using Backups.Tests.Build;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Interop;

/// <summary>
/// A repository written by main before issue 17's clean-up (Fixtures/OldMainRepository, see Fixtures/README.md)
/// must be read by today's build exactly as restic 0.14 reads it: same snapshots, same listing, byte-identical
/// restores and dumps, and a clean check; and today's build must go on writing into it so that restic still checks
/// it and the old data is deduplicated.
///
/// Why one fixture and not two ("written before and after"): the other directions need no kept repository.
/// Today's writer read by restic is OurWriterResticReaderTests, on every run. The old build reading today's
/// repositories cannot be a test without keeping an old binary; it was checked by hand when the fixture was made
/// (old check, snapshots, restore and dump of a repository written by today's build agree with restic). A second
/// fixture written by today's build would hold the same format again and guard nothing this one does not; the
/// change that alters the format is the one that should add a fixture of the format it leaves behind.
/// </summary>
public sealed class OldMainRepositoryTests : IDisposable
{
    private const string Password = "old main fixture";
    private const string FilesSnapshot = "083f6ee432f47ccebf9bcc7ce66e5f53d06480b143320f04850de35b8f09eaba";
    private const string DumpSnapshot = "67dd8ca06ac812ca4d597b3e0c70f417fbbb6fe5d04c1c085a6630f184073a85";
    private const string Source = "/tmp/old-main-fixture/src";

    private static readonly string Fixture =
        Path.Combine(ReleaseBuildFixture.RepositoryRoot, "tests", "Backups.Tests", "Fixtures", "OldMainRepository");

    private readonly TempDir _dir = new();
    private readonly Agent _agent;
    private readonly Restic _restic;

    public OldMainRepositoryTests()
    {
        // A copy: reading takes locks, and git keeps no empty folders (locks/, data/xx): both programs must cope.
        var repo = FileTrees.CopyDirectory(Fixture, _dir.Combine("repo"));
        _agent = new Agent(repo, Password);
        _restic = new Restic(repo, Password);
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Both_check_every_pack_of_it()
    {
        await _restic.CheckAsync(readData: true);
        await _agent.RunOkAsync("check", "--read-data");
    }

    [Fact]
    public async Task Snapshots_are_listed_as_restic_lists_them()
    {
        var ours = JsonNode.Parse((await _agent.RunOkAsync("snapshots", "--json")).StdoutText)!.AsArray();
        // restic 0.14 does not know program_version (restic 0.17 writes it): it reads it and leaves it out.
        foreach (var s in ours) Assert.Equal("backup-agent 1.0.0", (string?)s!.AsObject()["program_version"]);
        foreach (var s in ours) s!.AsObject().Remove("program_version");
        var theirs = JsonNode.Parse((await _restic.RunOkAsync("snapshots", "--json")).StdoutText)!;
        Assert.Equal(theirs.ToJsonString(), ours.ToJsonString());
        Assert.Equal([FilesSnapshot, DumpSnapshot], ours.Select(s => (string)s!["id"]!));
    }

    [Fact]
    public async Task Files_snapshot_is_listed_and_restored_byte_for_byte_as_restic_does()
    {
        Assert.Equal(Listing(await _restic.RunOkAsync("ls", FilesSnapshot[..8])), Listing(await _agent.RunOkAsync("ls", FilesSnapshot[..8])));
        Assert.Equal(await NodesAsync(_restic.RunOkAsync), await NodesAsync(_agent.RunOkAsync));

        var byRestic = _dir.Combine("by-restic");
        var byUs = _dir.Combine("by-us");
        await _restic.RunOkAsync("restore", FilesSnapshot[..8], "--target", byRestic);
        await _agent.RunOkAsync("restore", FilesSnapshot[..8], "--target", byUs);
        TreeFixture.AssertSame(byRestic + Source, byUs + Source);

        // And both are what was backed up, not merely the same as each other.
        var root = byUs + Source;
        Assert.Equal("95e57e0b43b8eee3c85e6f18ef7e3caccf0edf2db62ee3dd852068d1b7b215d0", Sha256(Path.Combine(root, "big.bin")));
        Assert.Equal("hello\n", File.ReadAllText(Path.Combine(root, "hello.txt")));
        Assert.Equal("ba095d18ff052809ba344dc755223bc240cd39457ab60b914f5f925be2f3e0e9", Sha256(Path.Combine(root, "sub", "notes.md")));
        Assert.Equal(0, new FileInfo(Path.Combine(root, "empty")).Length);
        Assert.Equal("../hello.txt", new FileInfo(Path.Combine(root, "sub", "link")).LinkTarget);
        Assert.Equal("/nowhere/at/all", new FileInfo(Path.Combine(root, "dangling")).LinkTarget);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(root, "empty-dir")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(Path.Combine(root, "hello.txt")));
        var stat = FileStat.Lstat(Path.Combine(root, "hello.txt"));
        Assert.Equal((1577934245L, 123456789L), ((long)stat.MTimeSec, (long)stat.MTimeNsec));
    }

    [Fact]
    public async Task Stdin_snapshot_dumps_as_restic_dumps_it()
    {
        using var ours = new HashingStream();
        using var theirs = new HashingStream();
        (await _agent.RunAsync(["dump", DumpSnapshot[..8], "/dump.sql"], stdout: ours)).EnsureSuccess("dump");
        (await _restic.RunAsync(["dump", DumpSnapshot[..8], "/dump.sql"], stdout: theirs)).EnsureSuccess("restic dump");
        Assert.Equal(Dump.LongLength, ours.Written);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Dump)), ours.Sha256());
        Assert.Equal(theirs.Sha256(), ours.Sha256());
    }

    /// <summary>
    /// Today's build backs the same content up again into the old repository: every data blob is one the old build
    /// already stored (so the chunking of files and of --stdin is unchanged, under the repository's polynomial),
    /// and restic checks the repository now written by both.
    /// </summary>
    [Fact]
    public async Task Todays_build_adds_to_it_without_a_new_data_blob()
    {
        var before = await DataBlobsAsync();
        var restored = _dir.Combine("restored");
        await _restic.RunOkAsync("restore", FilesSnapshot[..8], "--target", restored);
        await _agent.RunOkAsync("backup", restored + Source, "--host", "fixture-host");
        (await _agent.RunAsync(["backup", "--stdin", "--stdin-filename", "dump.sql"], new MemoryStream(Dump))).EnsureSuccess("backup --stdin");

        Assert.Equal(before, await DataBlobsAsync());
        await _restic.CheckAsync(readData: true);
        Assert.Equal(4, (await _restic.JsonAsync("snapshots")).GetArrayLength());
        using var dumped = new HashingStream();
        (await _restic.RunAsync(["dump", "latest", "/dump.sql"], stdout: dumped)).EnsureSuccess("restic dump");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Dump)), dumped.Sha256());
    }

    /// <summary>The --stdin snapshot's content, as Fixtures/README.md generated it.</summary>
    private static readonly byte[] Dump = Encoding.ASCII.GetBytes(string.Concat(
        Enumerable.Range(0, 4000).Select(i => $"INSERT INTO t VALUES ({i}, 'row {i * 7919 % 10007}');\n")));

    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    /// <summary>ls without its first line, whose wording differs (restic adds "filtered by [] ... UTC").</summary>
    private static string[] Listing(ProcessResult r) => r.StdoutText.Split('\n')[1..];

    /// <summary>ls --json's nodes in the fields both print: restic 0.14 adds permissions, and sizes only files'.</summary>
    private static async Task<List<string>> NodesAsync(Func<string[], Task<ProcessResult>> run)
    {
        var r = await run(["ls", "--json", FilesSnapshot[..8]]);
        var nodes = new List<string>();
        foreach (var line in r.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1))
        {
            var n = JsonNode.Parse(line)!.AsObject();
            n.Remove("permissions");
            if ((string?)n["type"] != "file") n.Remove("size");
            nodes.Add(n.ToJsonString());
        }
        return nodes;
    }

    private async Task<string[]> DataBlobsAsync() =>
        [.. (await _restic.RunOkAsync("list", "blobs")).StdoutText.Split('\n').Where(l => l.StartsWith("data ")).Order()];
}
