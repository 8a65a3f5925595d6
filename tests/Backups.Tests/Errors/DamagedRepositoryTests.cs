using System.Text;
using System.Text.Json.Nodes;
using Backups.Core.Backends;
using Backups.Core.Json;
using Backups.Core.Repositories;
using Backups.Tests.Support;
using Xunit;

namespace Backups.Tests.Errors;

/// <summary>
/// A repository damaged on disk (a flipped byte, garbage, a version from the future): reading it ends with the
/// exit code of its kind and one line naming the damaged file, and the reader repairs nothing on its own.
/// </summary>
public sealed class DamagedRepositoryTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly LocalStore _store;

    public DamagedRepositoryTests() => _store = new LocalStore(_dir);

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Flipped_byte_in_config_is_damage()
    {
        var repo = await RepositoryWithSnapshotAsync();
        RepositoryFiles.FlipByte(Path.Combine(repo.Repository, "config"), 40);
        await FailsAndChangesNothingAsync(repo, ["snapshots"], Failure.Damaged, "config is damaged");
    }

    [Fact]
    public async Task Key_file_with_garbage_json_is_damage()
    {
        var repo = await RepositoryWithSnapshotAsync();
        var key = KeyFilePath(repo);
        File.WriteAllText(key, "{\"created\": garbage");
        await FailsAndChangesNothingAsync(repo, ["snapshots"], Failure.Damaged, "keys/" + Path.GetFileName(key));
    }

    /// <summary>A changed bit in the encrypted master key fails its MAC exactly as a wrong password does: the two
    /// cannot be told apart, and the agent reports a wrong password (12).</summary>
    [Fact]
    public async Task Flipped_bit_in_key_data_reads_as_wrong_password()
    {
        var repo = await RepositoryWithSnapshotAsync();
        var key = KeyFilePath(repo);
        var json = JsonNode.Parse(File.ReadAllText(key))!;
        var data = Convert.FromBase64String(json["data"]!.GetValue<string>());
        data[data.Length / 2] ^= 0x10;
        json["data"] = Convert.ToBase64String(data);
        File.WriteAllText(key, json.ToJsonString());
        await FailsAndChangesNothingAsync(repo, ["snapshots"], Failure.WrongPassword, "wrong password");
    }

    [Fact]
    public async Task Index_file_not_matching_its_name_is_damage()
    {
        var repo = await RepositoryWithSnapshotAsync();
        var index = Assert.Single(RepositoryFiles.Ids(repo.Repository, "index"));
        RepositoryFiles.FlipByte(Path.Combine(repo.Repository, "index", index), 60);
        await FailsAndChangesNothingAsync(repo, ["dump", "latest", "/data.bin"], Failure.Damaged, $"index/{index}");
    }

    [Fact]
    public async Task Flipped_byte_inside_a_data_blob_is_damage()
    {
        var repo = await RepositoryWithSnapshotAsync();
        var (pack, offset, length) = await FirstDataBlobAsync(repo.Repository);
        RepositoryFiles.FlipByte(Path.Combine(repo.Repository, "data", pack[..2], pack), offset + length / 2);
        await FailsAndChangesNothingAsync(repo, ["dump", "latest", "/data.bin"], Failure.Damaged, pack);
    }

    [Fact]
    public async Task Repository_version_3_is_unsupported()
    {
        var repo = await RepositoryWithSnapshotAsync();
        // A config as a future restic would write it, sealed with the repository's own master key.
        await using (var opened = await Repository.OpenAsync(new LocalBackend(repo.Repository), Repositories.Password))
        {
            var json = $$"""{"version":3,"id":"{{opened.Config.Id}}","chunker_polynomial":"{{opened.Config.ChunkerPolynomial}}"}""";
            File.WriteAllBytes(Path.Combine(repo.Repository, "config"), opened.Key.Seal(Encoding.UTF8.GetBytes(json)));
        }
        await FailsAndChangesNothingAsync(repo, ["snapshots"], Failure.UnsupportedVersion, "version 3");
    }

    private async Task<RepositoryPair> RepositoryWithSnapshotAsync()
    {
        var repo = _store.New();
        await repo.Agent.RunOkAsync("init");
        using (var input = new TestData(TestData.Kind.Random, 1 << 20, seed: 9))
            (await repo.Agent.RunAsync(["backup", "--stdin", "--stdin-filename", "data.bin"], input)).EnsureSuccess("backup --stdin");
        return repo;
    }

    private static string KeyFilePath(RepositoryPair repo) =>
        Path.Combine(repo.Repository, "keys", Assert.Single(RepositoryFiles.Ids(repo.Repository, "keys")));

    /// <summary>Where the first data blob the index names is stored: pack id, offset and stored length.</summary>
    private static async Task<(string Pack, long Offset, long Length)> FirstDataBlobAsync(string repository)
    {
        await using var repo = await Repository.OpenAsync(new LocalBackend(repository), Repositories.Password);
        await foreach (var (name, _) in repo.Backend.ListAsync(FileKind.Index))
        {
            var json = await repo.LoadUnpackedAsync(new FileHandle(FileKind.Index, name));
            foreach (var pack in RepositoryJson.Deserialize(json.Span, RepositoryJson.Context.IndexFile, name).Packs)
                foreach (var blob in pack.Blobs.Where(b => b.Type == "data"))
                    return (pack.Id.ToString(), blob.Offset, blob.Length);
        }
        throw new InvalidOperationException("the index names no data blob");
    }

    private static async Task FailsAndChangesNothingAsync(RepositoryPair repo, string[] args, int code, string mentions)
    {
        var before = RepositoryFiles.Snapshot(repo.Repository);
        Failure.AssertOneLine(await repo.Agent.RunAsync(args), code, mentions);
        RepositoryFiles.AssertUnchanged(before, repo.Repository);
    }
}
